/**
 * The release tooling end to end through the real `subflash` binary: keygen, release create,
 * manifest verify and inspect, with their exit codes and messages. The tests after the set-up
 * touch distinct files, so they run concurrently.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = resolve(import.meta.dirname, "../../bin/subflash.mjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function subflash(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const SPEC = `
release: bench-2026.3
expires: 7d
targets:
  gateways: [gw-001]
  groups: [lab]
policy:
  atomicity: all-or-nothing
  parallelism: 1
modules:
  power:
    version: 2.1.0
    securityVersion: 2
    device: g071
    slots:
      single: { file: images/power.bin, address: 0x08000000 }
`;

let dir: string;
let created: Run;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "subflash-cli-release-"));
  await mkdir(join(dir, "images"));
  await writeFile(
    join(dir, "images", "power.bin"),
    Uint8Array.from({ length: 4099 }, (_, i) => (i * 13) & 0xff),
  );
  await writeFile(join(dir, "release.yaml"), SPEC);
  // Sequential: both add to the same trust store.
  const first = await subflash(
    ["keygen", "--out", "keys/ci-a", "--label", "CI key A", "--trust", "trust.json"],
    dir,
  );
  expect(first).toMatchObject({ code: 0 });
  const second = await subflash(["keygen", "--out", "keys/ci-b", "--trust", "trust.json", "--json"], dir);
  expect(second).toMatchObject({ code: 0 });
  created = await subflash(
    [
      "release",
      "create",
      "release.yaml",
      "--key",
      "keys/ci-a.key",
      "--key",
      "keys/ci-b.key",
      "--out",
      "release.bundle",
      "--sequence",
      "100",
    ],
    dir,
  );
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.concurrent("subflash keygen", () => {
  it("writes an owner-only secret key, a public key, and adds it to the trust store", async () => {
    expect((await stat(join(dir, "keys", "ci-a.key"))).mode & 0o777).toBe(0o600);
    const trust = JSON.parse(await readFile(join(dir, "trust.json"), "utf8")) as {
      threshold: number;
      keys: Array<{ id: string; label?: string }>;
    };
    expect(trust.threshold).toBe(1);
    expect(trust.keys).toHaveLength(2);
    expect(trust.keys[0]!.label).toBe("CI key A");
  });

  it("refuses to overwrite a key, exiting non-zero with the path", async () => {
    const run = await subflash(["keygen", "--out", "keys/ci-a"], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/keys\/ci-a\.key already exists.*\[key-file-exists\]/);
  });
});

describe.concurrent("subflash release create", () => {
  it("builds and signs the bundle and prints what is in it", () => {
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/release +bench-2026\.3/);
    expect(created.stdout).toMatch(/sequence +100/);
    expect(created.stdout).toMatch(/slot single 0x08000000 +4099 bytes +inline #0/);
    expect(created.stdout).toMatch(/wrote +release\.bundle/);
  });

  it("refuses a secret key file others can read", async () => {
    await writeFile(join(dir, "keys", "loose.key"), await readFile(join(dir, "keys", "ci-a.key")));
    await chmod(join(dir, "keys", "loose.key"), 0o644);
    const run = await subflash(
      ["release", "create", "release.yaml", "--key", "keys/loose.key", "--out", "x.bundle"],
      dir,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/keys\/loose\.key is accessible by group or others.*\[insecure-key-file\]/);
  });

  it("names the spec field that is wrong, with exit code 1", async () => {
    await writeFile(join(dir, "bad.yaml"), SPEC.replace("version: 2.1.0", "version: latest"));
    const run = await subflash(
      ["release", "create", "bad.yaml", "--key", "keys/ci-a.key", "--out", "x.bundle"],
      dir,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/modules\.power\.version.*\[bad-spec\]/);
  });
});

describe.concurrent("subflash manifest verify", () => {
  it("accepts the bundle for its gateway with exit 0 and a summary", async () => {
    const run = await subflash(
      [
        "manifest",
        "verify",
        "release.bundle",
        "--trust",
        "trust.json",
        "--gateway",
        "gw-001",
        "--last-sequence",
        "99",
      ],
      dir,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/accepted: release bench-2026\.3, sequence 100/);
    expect(run.stdout).toMatch(/checked: .*target.*replay.*images/);
  });

  it("refuses with exit 1 and the named reason: another gateway, a replay, a tampered image", async () => {
    const bundle = await readFile(join(dir, "release.bundle"));
    bundle[bundle.length - 10]! ^= 0xff; // inside the inline image, which is last
    await writeFile(join(dir, "tampered.bundle"), bundle);
    const [other, replayed, tampered] = await Promise.all([
      subflash(
        [
          "manifest",
          "verify",
          "release.bundle",
          "--trust",
          "trust.json",
          "--gateway",
          "gw-002",
          "--groups",
          "field",
        ],
        dir,
      ),
      subflash(
        ["manifest", "verify", "release.bundle", "--trust", "trust.json", "--last-sequence", "100"],
        dir,
      ),
      subflash(["manifest", "verify", "tampered.bundle", "--trust", "trust.json", "--json"], dir),
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/refused \(not-for-this-gateway\): .*not gateway gw-002/);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toMatch(/refused \(replayed\)/);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({
      ok: false,
      code: "digest-mismatch",
      stage: "policy",
    });
  });

  it("needs two signatures when the trust store says so, and the bundle has them", async () => {
    const trust = JSON.parse(await readFile(join(dir, "trust.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "trust-2of2.json"), JSON.stringify({ ...trust, threshold: 2 }));
    const run = await subflash(
      ["manifest", "verify", "release.bundle", "--trust", "trust-2of2.json", "--json"],
      dir,
    );
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { signedBy: string[] }).signedBy).toHaveLength(2);
  });
});

describe.concurrent("subflash manifest inspect", () => {
  it("prints everything in the bundle as JSON", async () => {
    const run = await subflash(["manifest", "inspect", "release.bundle", "--json"], dir);
    expect(run.code).toBe(0);
    const shown = JSON.parse(run.stdout) as {
      envelope: { signers: string[] };
      bundle: { images: unknown[] };
      payload: { modules: { power: { slots: { single: { sha256: string } } } } };
    };
    expect(shown.envelope).toMatchObject({
      structure: "COSE_Sign",
      contentType: "application/vnd.subflash.manifest+cbor",
      signaturesVerified: false,
    });
    expect(shown.envelope.signers).toHaveLength(2);
    expect(shown.bundle.images).toEqual([{ index: 0, bytes: 4099 }]);
    expect(shown.payload).toMatchObject({
      release: "bench-2026.3",
      sequence: 100,
      modules: { power: { version: "2.1.0", securityVersion: 2, device: { pid: 0x460 } } },
    });
    expect(shown.payload.modules.power.slots.single.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
