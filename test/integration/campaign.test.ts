/**
 * Campaigns end to end on a real Mosquitto (SUBFLASH_TEST_MQTT_URL, or one started here; the
 * embedded aedes when neither is there): a simulated fleet of full gateway engines, the campaign
 * controller as an MQTT client beside them (in this process, or as `subflash campaign run` in a
 * child process that is killed), and nothing shared but the broker.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CampaignController } from "../../src/mqtt/operator/campaign/controller.js";
import { CampaignWatcher, sendCampaignControl } from "../../src/mqtt/operator/campaign/control.js";
import { rolloutOrder } from "../../src/mqtt/operator/campaign/plan.js";
import type { CampaignRecord } from "../../src/mqtt/operator/campaign/journal.js";
import type { MqttConnection } from "../../src/mqtt/operator/index.js";
import { startSimFleet } from "../../src/sim/world/sim-fleet.js";
import type { SimFleet, SimGatewayFailure } from "../../src/sim/world/sim-fleet.js";
import { createSigningKey } from "../../src/signing/keys.js";
import { mosquittoUnavailable, startAedes, startMosquitto, uniquePrefix } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";
import { campaignFiles, operator, releaseBundle } from "./helpers/campaign.js";
import type { CampaignFiles } from "./helpers/campaign.js";

const useMosquitto = mosquittoUnavailable() === null;
const ids = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `gw-${String(i + 1).padStart(3, "0")}`);

describe(`campaigns over ${useMosquitto ? "mosquitto" : "aedes"}`, () => {
  let broker: TestBroker;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    broker = useMosquitto ? await startMosquitto() : await startAedes();
  });
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await broker?.close();
  });

  async function fleet(
    n: number,
    prefix: string,
    failures?: (id: string, i: number) => SimGatewayFailure | undefined,
  ): Promise<SimFleet> {
    const key = createSigningKey({ label: "campaign test key" });
    const f = await startSimFleet({
      gateways: n,
      broker: broker.url,
      prefix,
      key,
      ...(failures ? { failures } : {}),
    });
    cleanups.push(() => f.stop());
    return f;
  }

  async function connect(): Promise<MqttConnection> {
    const c = await operator(broker.url);
    cleanups.push(() => c.stop());
    return c;
  }

  async function files(f: SimFleet, sequence: number, spec: Record<string, unknown>): Promise<CampaignFiles> {
    const result = await campaignFiles(f.key, releaseBundle(f.key, sequence), spec);
    cleanups.push(() => rmSync(result.dir, { recursive: true, force: true }));
    return result;
  }

  function controller(
    f: SimFleet,
    c: CampaignFiles,
    connection: MqttConnection,
    prefix: string,
  ): CampaignController {
    return new CampaignController({
      connection,
      spec: c.spec,
      bundle: new Uint8Array(readFileSync(c.bundlePath)),
      key: f.key,
      stateDir: c.stateDir,
      prefix,
      settleMs: 300,
    });
  }

  it("rolls a release out in two waves and reports every gateway committed", async () => {
    const prefix = uniquePrefix("campaign-ok");
    const f = await fleet(6, prefix);
    const c = await files(f, 10, {
      id: "ok",
      targets: { groups: ["fleet"] },
      waves: [{ size: 1 }, { size: "100%" }],
    });
    const result = await controller(f, c, await connect(), prefix).run();
    expect(result.state).toBe("completed");
    expect(result.waves.map((w) => [w.targets, w.committed])).toEqual([
      [1, 1],
      [5, 5],
    ]);
    for (const gw of f.gateways.values()) expect(gw.modules.running("radio")).toBe("2.0.0");
  }, 60_000);

  it("stops before wave 3 when wave 2 crosses the abort threshold, names the failed gateways and modules, and leaves them rolled back", async () => {
    const prefix = uniquePrefix("campaign-abort");
    const all = ids(24);
    const order = rolloutOrder("abort", all);
    // Waves of 2, 50 % (10 more), the rest: half of wave 2 gets a motor firmware that never answers its health check.
    const wave2 = order.slice(2, 12);
    const failing = new Set(wave2.filter((_, i) => i % 2 === 0));
    const f = await fleet(24, prefix, (id) => (failing.has(id) ? { healthFail: ["motor"] } : undefined));
    const c = await files(f, 20, {
      id: "abort",
      targets: { groups: ["fleet"] },
      waves: [{ size: 2 }, { size: "50%" }, { size: "100%" }],
      abort: [{ failureType: "failed", thresholdPercentage: 30, minNumberOfExecutedThings: 8 }],
      gatewayTimeoutSeconds: 60,
    });
    const result = await controller(f, c, await connect(), prefix).run();

    expect(result.state).toBe("aborted");
    expect(result.reason).toMatch(/abort criterion met/);
    const [w1, w2, w3] = result.waves;
    expect(w1!.committed).toBe(2);
    expect(w2!.startedAt).not.toBeNull();
    expect(w3!.startedAt).toBeNull();
    expect(w3!.skipped).toBe(12);
    const failed = result.problems.filter((p) => p.outcome === "failed");
    expect(failed.length).toBeGreaterThanOrEqual(3);
    for (const problem of failed) {
      expect(failing.has(problem.gateway)).toBe(true);
      expect(problem.wave).toBe(2);
      expect(problem.error?.code).toBeTruthy();
      const motor = problem.modules.find((m) => m.module === "motor");
      expect(motor?.error?.code).toBeTruthy();
    }
    // Every gateway that failed or was cancelled runs its previous firmware again; wave 3 never got the bundle.
    for (const problem of result.problems) {
      const gw = f.gateways.get(problem.gateway)!;
      for (const m of ["power", "motor", "radio", "sensor"]) expect(gw.modules.running(m)).toBe("1.0.0");
    }
    for (const id of order.slice(12)) expect(f.gateways.get(id)!.engine!.gatewayStatus().bundle).toBeNull();
  }, 120_000);

  it("waits for approval, stays paused while paused, and goes on when resumed", async () => {
    const prefix = uniquePrefix("campaign-approve");
    const f = await fleet(20, prefix);
    const c = await files(f, 30, {
      id: "approve",
      targets: { groups: ["fleet"] },
      waves: [{ size: 2 }, { size: "100%", approval: true }],
    });
    const connection = await connect();
    const other = await connect();
    const watcher = new CampaignWatcher(other, { prefix, id: "approve" });
    await watcher.start();
    const done = controller(f, c, connection, prefix).run();

    const waiting = await watcher.until("approve", (s) => s.state === "waiting-approval", 60_000);
    expect(waiting.waves[0]!.committed).toBe(2);
    expect(waiting.waves[1]!.startedAt).toBeNull();

    await sendCampaignControl(other, "approve", { action: "pause" }, { prefix, by: "test" });
    await watcher.until("approve", (s) => s.state === "paused", 10_000);
    await sendCampaignControl(other, "approve", { action: "approve", wave: 2 }, { prefix, by: "test" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stillPaused = watcher.campaigns.get("approve")!;
    expect(stillPaused.state).toBe("paused");
    expect(stillPaused.waves[1]!.startedAt).toBeNull();

    await sendCampaignControl(other, "approve", { action: "resume" }, { prefix, by: "test" });
    const result = await done;
    expect(result.state).toBe("completed");
    expect(result.waves[1]!.committed).toBe(18);
    watcher.stop();
  }, 120_000);

  it("continues after the controller is SIGKILLed mid-wave, without sending any gateway the bundle twice or losing an outcome", async () => {
    const prefix = uniquePrefix("campaign-kill");
    const f = await fleet(20, prefix);
    const c = await files(f, 40, {
      id: "kill",
      targets: { groups: ["fleet"] },
      waves: [{ size: 4 }, { size: "100%" }],
      rateLimit: { maximumPerMinute: 240 },
    });
    const other = await connect();
    const watcher = new CampaignWatcher(other, { prefix, id: "kill" });
    await watcher.start();
    const args = [
      "campaign",
      "run",
      c.specPath,
      "--broker",
      broker.url,
      "--prefix",
      prefix,
      "--key",
      c.keyPath,
      "--state",
      c.stateDir,
      "--json",
    ];

    const first = cli(args);
    await watcher.until(
      "kill",
      (s) => (s.waves[1]?.inProgress ?? 0) + (s.waves[1]?.committed ?? 0) >= 3,
      60_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    const journal = JSON.parse(readFileSync(`${c.stateDir}/campaign-kill.json`, "utf8")) as CampaignRecord;
    const before = Object.values(journal.gateways).filter((g) => g.outcome === "committed").length;
    expect(before).toBeGreaterThanOrEqual(4);

    const second = cli(args);
    const code = await second.exited;
    expect(code, second.stderr()).toBe(0);
    const report = JSON.parse(second.stdout().trim().split("\n").at(-1)!) as {
      report: { waves: Array<{ committed: number }> };
    };
    expect(report.report.waves.map((w) => w.committed)).toEqual([4, 16]);
    for (const gw of f.gateways.values()) {
      const status = gw.engine!.gatewayStatus();
      expect(status.bundle?.state).toBe("committed");
      // A second delivery of the same bundle would be refused as a replay and show here.
      expect(status.lastRejected ?? null).toBeNull();
    }
    watcher.stop();
  }, 120_000);
});

function cli(args: string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ["bin/subflash.mjs", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}
