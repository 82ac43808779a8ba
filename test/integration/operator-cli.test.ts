/**
 * The operator commands and the daemon's start-up checks as processes, the way people run them:
 * `subflash publish --wait`, `status` (table and JSON), `rollback --wait`, and their exit codes,
 * against a gateway (in this process) on a real broker.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import { createWorld } from "../../src/sim/world/world.js";
import type { World } from "../../src/sim/world/world.js";
import { writeKeyFiles } from "../../src/signing/key-files.js";
import { preferredBroker, freePort, uniquePrefix } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/subflash.mjs", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`subflash ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const brokerChoice = preferredBroker();

describe(`operator CLI (${brokerChoice.label})`, () => {
  let broker: TestBroker;
  let world: World;
  let keyFile: string;
  let bundleFile: string;
  let common: string[];

  beforeAll(async () => {
    broker = await brokerChoice.start();
    world = await createWorld({
      broker: broker.url,
      prefix: uniquePrefix("cli"),
      gateway: "gw-cli",
      timing: false,
      factorySize: 4096,
    });
    keyFile = (await writeKeyFiles(join(world.dir, "ops"), world.key)).secretPath;
    bundleFile = join(world.dir, "r1.bundle");
    writeFileSync(
      bundleFile,
      fleetBundle(
        {
          sequence: 1,
          release: "cli-2.0.0",
          gateways: [world.gateway],
          modules: { power: { version: "2.0.0" }, motor: { version: "2.0.0" } },
          imageSize: 4096,
        },
        world.key,
      ),
    );
    common = ["--broker", broker.url, "--prefix", world.prefix];
  });
  afterAll(async () => {
    await world?.close();
    await broker?.close();
  });

  it("publishes a bundle and waits for it to be committed (exit 0)", async () => {
    const run = await cli([
      "publish",
      bundleFile,
      ...common,
      "--gateway",
      "gw-cli",
      "--wait",
      "--timeout",
      "60",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`published cli-2.0.0 #1`);
    expect(run.stdout).toMatch(/bundle cli-2\.0\.0 #1 committed/);
  });

  it("shows the retained status as a table and as JSON", async () => {
    const table = await cli(["status", ...common]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/gateway gw-cli\s+online/);
    expect(table.stdout).toMatch(/motor\s+motor-board\s+committed\s+2\.0\.0\s+b/);
    const json = await cli(["status", ...common, "--gateway", "gw-cli", "--json"]);
    expect(json.code).toBe(0);
    const [gw] = JSON.parse(json.stdout) as Array<{
      gateway: string;
      online: boolean;
      modules: Array<{ module: string; state: string; version: string }>;
    }>;
    expect(gw).toMatchObject({ gateway: "gw-cli", online: true });
    // Sorted by module; the radio was not in the bundle and was never touched.
    expect(gw!.modules.map((m) => `${m.module}:${m.state}`)).toEqual([
      "motor:committed",
      "power:committed",
      "radio:idle",
    ]);
    expect(gw!.modules.slice(0, 2).map((m) => m.version)).toEqual(["2.0.0", "2.0.0"]);
  });

  it("keeps printing snapshots with --watch --json until interrupted, then exits 0", async () => {
    const child = spawn(
      process.execPath,
      ["bin/subflash.mjs", "status", ...common, "--gateway", "gw-cli", "--watch", "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await expect.poll(() => stdout.includes("\n"), { timeout: 20_000 }).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const first = JSON.parse(stdout.split("\n")[0]!) as Array<{ gateway: string; modules: unknown[] }>;
    expect(first).toEqual([expect.objectContaining({ gateway: "gw-cli", online: true })]);
    expect(first[0]!.modules).toHaveLength(3);
  });

  it("refuses a replayed bundle with exit 1 and says why", async () => {
    const run = await cli([
      "publish",
      bundleFile,
      ...common,
      "--gateway",
      "gw-cli",
      "--wait",
      "--timeout",
      "30",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/bundle #1 refused by gw-cli: replayed/);
  });

  it("rolls a module back with a signed command and waits for it (exit 0)", async () => {
    const run = await cli([
      "rollback",
      ...common,
      "--gateway",
      "gw-cli",
      "--key",
      keyFile,
      "--module",
      "motor",
      "--wait",
      "--timeout",
      "60",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/rollback accepted by gw-cli \(motor\)/);
    expect(run.stdout).toMatch(/motor: rolled-back 1\.0\.0 \(slot a\)/);
  });

  it("exits 1 when the gateway refuses the command", async () => {
    const run = await cli([
      "rollback",
      ...common,
      "--gateway",
      "gw-cli",
      "--key",
      keyFile,
      "--module",
      "no-such-module",
      "--timeout",
      "20",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/rollback refused by gw-cli: unknown-module/);
  });

  it("refuses a file that is not a bundle before connecting (exit 2)", async () => {
    const junk = join(world.dir, "junk.bin");
    writeFileSync(junk, "not a bundle");
    const run = await cli(["publish", junk, ...common, "--gateway", "gw-cli"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/junk\.bin: not a subflash bundle/);
  });

  it("fails fast and clearly when the broker cannot be reached (exit 1)", async () => {
    const port = await freePort();
    const run = await cli(
      ["status", "--broker", `mqtt://127.0.0.1:${port}`, "--connect-timeout", "3"],
      20_000,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot connect to mqtt:\/\/127\.0\.0\.1:\d+/);
  });

  it("runs the daemon with JSON logs, the MQTT password redacted, and exits 0 on SIGTERM after saying goodbye", async () => {
    const dir = world.dir;
    const config = {
      gateway: { id: "gw-daemon" },
      mqtt: { url: broker.url, prefix: world.prefix, username: "ops", password: "hunter2-secret" },
      trustStore: join(dir, "trust.json"),
      stateDir: join(dir, "daemon-state"),
      modules: [
        {
          id: "power",
          type: "power-board",
          device: "f103",
          transport: { usart: { path: "/dev/sim-power" } },
          entry: { method: "gpio", chip: "gpiochip0", boot0: 17, nrst: 27 },
          layout: { kind: "single", slot: { address: 0x08000000, size: 0x10000 } },
        },
      ],
    };
    writeFileSync(join(dir, "daemon.json"), JSON.stringify(config));
    writeFileSync(join(dir, "daemon-sims.yaml"), "timing: false\nmodules:\n  power: {}\n");
    const child = spawn(
      process.execPath,
      [
        "bin/subflash.mjs",
        "daemon",
        "--config",
        join(dir, "daemon.json"),
        "--simulate",
        join(dir, "daemon-sims.yaml"),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon not ready:\n${stdout}\n${stderr}`)), 20_000);
      void exited.then((code) => reject(new Error(`daemon exited with ${code}:\n${stdout}\n${stderr}`)));
      const check = setInterval(() => {
        if (!stdout.includes("gateway ready")) return;
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }, 50);
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        "configuration loaded",
        "connected to broker",
        "gateway ready",
        "signal received; stopping",
        "stopped",
      ]),
    );
    expect(stdout).not.toContain("hunter2-secret");
    expect(stdout).toContain("[redacted]");
  });

  it("lists every configuration problem and exits 2 when the daemon's config is invalid", async () => {
    const bad = join(world.dir, "bad.yaml");
    writeFileSync(bad, "gateway: { id: 'no/slash' }\nmqtt: { url: 'http://x' }\nmodules: []\n");
    const run = await cli(["daemon", "--config", bad]);
    expect(run.code).toBe(2);
    for (const problem of ["gateway.id", "mqtt.url", "trustStore", "stateDir", "modules"])
      expect(run.stderr).toContain(problem);
  });
});
