/**
 * The service files in contrib/ install and start on a Debian 12 gateway: systemd's own tools accept
 * the unit, the sysusers and the tmpfiles file without a single warning, and every group the unit and
 * the udev rule name is one that Debian has (dialout) or that sysusers.d creates.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const contrib = resolve(import.meta.dirname, "../../contrib");
const unitPath = join(contrib, "systemd/subflash.service");
const sysusersPath = join(contrib, "sysusers.d/subflash.conf");
const tmpfilesPath = join(contrib, "tmpfiles.d/subflash.conf");
const udevPath = join(contrib, "udev/60-subflash.rules");
const bin = resolve(import.meta.dirname, "../../bin/subflash.mjs");

const has = (tool: string): boolean => !spawnSync(tool, ["--version"], { stdio: "ignore" }).error;
const dir = mkdtempSync(join(tmpdir(), "subflash-contrib-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(tool: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The non-comment lines of a sysusers/tmpfiles/udev file, split into fields. */
function lines(path: string): string[][] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.match(/"[^"]*"|\S+/g) ?? []);
}

const sysusers = lines(sysusersPath);
const createdGroups = sysusers.filter((f) => f[0] === "g" || f[0] === "u").map((f) => f[1]!);
const DEBIAN_GROUPS = ["dialout"];

function unitValues(key: string): string[] {
  return readFileSync(unitPath, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

describe.skipIf(!has("systemd-analyze"))("contrib/systemd/subflash.service", () => {
  it("passes systemd-analyze verify without a warning (ExecStart pointed at this checkout)", () => {
    const unit = readFileSync(unitPath, "utf8").replace(
      /^ExecStart=\S+/m,
      `ExecStart=${process.execPath} ${bin}`,
    );
    const copy = join(dir, "subflash.service");
    writeFileSync(copy, unit);
    const result = run("systemd-analyze", ["verify", copy]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("runs as the sysusers.d user with groups that Debian has or sysusers.d creates", () => {
    expect(unitValues("User")).toEqual(["subflash"]);
    const groups = [
      ...unitValues("Group"),
      ...unitValues("SupplementaryGroups").flatMap((v) => v.split(/\s+/)),
    ];
    for (const group of groups) expect([...createdGroups, ...DEBIAN_GROUPS]).toContain(group);
  });

  it("restarts on failure, keeps its state directory and uses no option that closes devices before systemd 252", () => {
    expect(unitValues("Restart")).toEqual(["on-failure"]);
    expect(unitValues("StateDirectory")).toEqual(["subflash"]);
    expect(unitValues("ProtectClock")).toEqual([]);
    expect(unitValues("PrivateDevices")).toEqual([]);
    expect(unitValues("DeviceAllow").map((v) => v.split(" ")[0])).toEqual(
      expect.arrayContaining(["char-ttyS", "char-ttyUSB", "char-ttyACM", "char-i2c", "char-gpiochip"]),
    );
  });
});

describe.skipIf(!has("systemd-sysusers"))("contrib/sysusers.d/subflash.conf", () => {
  it("is accepted by systemd-sysusers --dry-run without a warning", () => {
    const result = run("systemd-sysusers", ["--dry-run", sysusersPath]);
    const complaints = `${result.stdout}\n${result.stderr}`
      .split("\n")
      .filter((l) => l.trim() !== "" && !/^(Creating|Would write|Adding)/.test(l));
    expect(complaints).toEqual([]);
    expect(result.code).toBe(0);
  });
});

describe.skipIf(!has("systemd-tmpfiles"))("contrib/tmpfiles.d/subflash.conf", () => {
  it("creates /var/lib/subflash (0700, subflash) and /etc/subflash (0750) under a scratch root without a warning", () => {
    // A root whose passwd and group know the user and groups of sysusers.d.
    const root = join(dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(
      join(root, "etc/passwd"),
      "root:x:0:0::/root:/bin/sh\nsubflash:x:990:990::/var/lib/subflash:/usr/sbin/nologin\n",
    );
    writeFileSync(
      join(root, "etc/group"),
      `root:x:0:\n${createdGroups.map((g, i) => `${g}:x:${990 - i}:`).join("\n")}\n`,
    );
    const result = run("systemd-tmpfiles", ["--create", `--root=${root}`, tmpfilesPath]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(statSync(join(root, "var/lib/subflash")).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "etc/subflash")).mode & 0o777).toBe(0o750);
  });
});

describe("contrib/udev/60-subflash.rules", () => {
  it("gives /dev/i2c-* and /dev/gpiochip* to groups that sysusers.d creates, read-write for the group", () => {
    const rules = lines(udevPath).map((f) => f.join(" "));
    const kernels = rules.map((r) => /KERNEL=="([^"]+)"/.exec(r)?.[1]);
    expect(kernels).toEqual(["i2c-[0-9]*", "gpiochip[0-9]*"]);
    for (const rule of rules) {
      expect(createdGroups).toContain(/GROUP="([^"]+)"/.exec(rule)?.[1]);
      expect(rule).toContain('MODE="0660"');
    }
  });
});
