/**
 * `subflash daemon --check` tells the truth about a gateway before it starts: every missing device,
 * tool or file is a failure naming its configuration field, simulated modules are said to be
 * skipped, and the state directory's lock shows a daemon that is already running — which a second
 * daemon refuses to share.
 */
import { openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_FLEET } from "../../src/sim/world/fleet.js";
import { createPtyPair, ptySupport } from "../../src/targets/transport/pty.js";
import { createDaemonRig, startDaemon, type DaemonProcess } from "../integration/helpers/daemon.js";
import { subflash } from "./bench-run.js";

interface Result {
  check: string;
  field: string;
  path?: string;
  status: string;
  detail: string;
}

const pty = await ptySupport();
// Nothing listens on port 1: a daemon started against it keeps retrying, holding its lock.
const rig = createDaemonRig({
  brokerUrl: "mqtt://127.0.0.1:1",
  prefix: "check",
  baud: 115200,
  timing: false,
  modules: DEMO_FLEET,
});
afterAll(() => rig.close());

async function check(
  extra: string[] = [],
): Promise<{ code: number; out: { ok: boolean; results: Result[] } }> {
  const run = await subflash(["daemon", "--config", rig.configPath, "--check", "--json", ...extra]);
  return { code: run.code, out: JSON.parse(run.stdout) as { ok: boolean; results: Result[] } };
}

describe("subflash daemon --check", () => {
  it("fails on every missing serial port, I2C bus and GPIO chip, naming each field, and exits 1", async () => {
    const { code, out } = await check();
    expect(code).toBe(1);
    expect(out.ok).toBe(false);
    const failed = out.results.filter((r) => r.status === "fail").map((r) => [r.check, r.field, r.path]);
    expect(failed).toEqual(
      expect.arrayContaining([
        ["serial port", "modules[0].transport.usart.path", "/dev/sim-power"],
        ["serial port", "modules[1].transport.usart.path", "/dev/sim-motor"],
        ["I2C bus", "modules[3].transport.i2c.bus", "/dev/i2c-1"],
      ]),
    );
    // The configuration, trust store, state directory (not created yet) and broker URL are fine.
    const ok = out.results.filter((r) => r.status === "ok").map((r) => r.check);
    expect(ok).toEqual(
      expect.arrayContaining(["configuration", "trust store", "state directory", "broker URL"]),
    );
  });

  it("says in words what failed, one line each, and that the check failed", async () => {
    const run = await subflash(["daemon", "--config", rig.configPath, "--check"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^FAIL {2}serial port {2}modules\[0\]\.transport\.usart\.path {2}\/dev\/sim-power: does not exist$/m,
    );
    expect(run.stdout).toMatch(/^\d+ check\(s\) failed$/m);
  });

  it("reports an unreadable trust store and a missing gpioset as failures of their fields", async () => {
    const config = JSON.parse(readFileSync(rig.configPath, "utf8")) as {
      trustStore: string;
      modules: Array<{ entry: { method: string; gpioset?: string } }>;
    };
    const broken = join(rig.dir, "broken.json");
    writeFileSync(join(rig.dir, "bad-trust.json"), "{ not json");
    config.trustStore = "bad-trust.json";
    for (const m of config.modules) if (m.entry.method === "gpio") m.entry.gpioset = "no-such-gpioset-tool";
    writeFileSync(broken, JSON.stringify(config));
    const run = await subflash(["daemon", "--config", broken, "--check", "--json"]);
    const out = JSON.parse(run.stdout) as { results: Result[] };
    const fail = (field: string): Result | undefined =>
      out.results.find((r) => r.field === field && r.status === "fail");
    expect(fail("trustStore")?.detail).toMatch(/bad-trust\.json/);
    const gpio = config.modules.findIndex((m) => m.entry.method === "gpio");
    expect(fail(`modules[${gpio}].entry.gpioset`)?.detail).toMatch(/no-such-gpioset-tool not found on PATH/);
    expect(run.code).toBe(1);
  });

  it("with --simulate, skips the device checks, says so, and passes", async () => {
    const run = await subflash(["daemon", "--config", rig.configPath, "--simulate", rig.simPath, "--check"]);
    expect(run.stdout).toMatch(/^skip {2}devices {2}modules\[0\] \(power\): simulated module/m);
    expect(run.stdout).toMatch(/all checks passed \(modules simulated: their devices were not checked\)/);
    expect(run.code).toBe(0);
  });

  it("refuses a second daemon on the same state directory, and --check names the running one", async () => {
    const logs: string[] = [];
    const first: DaemonProcess = rig.start();
    try {
      // The first daemon holds the lock once it has logged its configuration.
      for (let i = 0; i < 200 && !rig.logs.some((l) => l.includes("configuration loaded")); i++)
        await delay(50);
      await delay(200);
      const second = startDaemon(
        ["daemon", "--config", rig.configPath, "--simulate", rig.simPath, "--log-level", "info"],
        logs,
      );
      expect(await second.exited).toBe(1);
      expect(logs.join("\n")).toMatch(new RegExp(`in use by process ${first.child.pid}`));
      const { out } = await check(["--simulate", rig.simPath]);
      const lock = out.results.find((r) => r.check === "state lock");
      expect(lock).toMatchObject({ status: "fail" });
      expect(lock?.detail).toMatch(new RegExp(`held by process ${first.child.pid}, a running daemon`));
    } finally {
      expect(await first.kill("SIGTERM")).toBe(0);
    }
    // Stopped cleanly: the lock is free again.
    const { out } = await check(["--simulate", rig.simPath]);
    expect(out.results.find((r) => r.check === "state lock")?.status).toBe("ok");
  }, 120_000);
});

describe.skipIf(!pty.available && !pty.required)("--check on a serial port that exists", () => {
  const portCheck = async (path: string): Promise<Result | undefined> => {
    const config = JSON.parse(readFileSync(rig.configPath, "utf8")) as {
      modules: Array<{ transport: { usart?: { path: string } } }>;
    };
    config.modules = [config.modules[1]!]; // motor: app-command entry, serial line
    config.modules[0]!.transport.usart!.path = path;
    const file = join(rig.dir, "port.json");
    writeFileSync(file, JSON.stringify(config));
    const run = await subflash(["daemon", "--config", file, "--check", "--json"]);
    return (JSON.parse(run.stdout) as { results: Result[] }).results.find((r) => r.check === "serial port");
  };

  it("passes a character device that no process has open", async () => {
    expect(await portCheck("/dev/full")).toMatchObject({ status: "ok", path: "/dev/full" });
  });

  it("fails a port that another process has open, naming the process", async () => {
    const pair = await createPtyPair();
    const fd = openSync(pair.a, "r+");
    try {
      const held = await portCheck(pair.a);
      expect(held?.status).toBe("fail");
      expect(held?.detail).toMatch(new RegExp(`is open in process .*\\b${process.pid}\\b`));
    } finally {
      closeSync(fd);
      await pair.close();
    }
  });
});
