/**
 * The daemon PROCESS SIGKILLed at exact points of the demo product's four-module update (USART and
 * I2C, A/B and single slot), chosen by SUBFLASH_TEST_KILL_AT so each point means the same thing on
 * every run: halfway through an A/B slot's Write Memory commands, halfway through restoring the
 * single-slot module's old image while a failed bundle is rolled back, and during a signed remote
 * rollback. After a restart every module must boot a complete image of one release, all four the
 * same (judged from their flash files, not from the gateway's records), and the retained status must
 * agree. The smallest representative of the fault benchmark's SIGKILL sets (npm run bench:faults).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { gatewayTopics } from "../../src/mqtt/contract/topics.js";
import { connectOperator, publishBundle } from "../../src/mqtt/operator/operator.js";
import { fleetCommand } from "../../src/sim/world/fleet.js";
import { preferredBroker } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";
import { judgeFlash, killRig, releaseBundle, Watched } from "./helpers/kill-rig.js";

const brokerChoice = preferredBroker();

describe(`daemon SIGKILLed at exact points (${brokerChoice.label})`, () => {
  let broker: TestBroker;
  let operator: MqttConnection;
  let watched: Watched | null = null;

  beforeAll(async () => {
    broker = await brokerChoice.start();
    operator = await connectOperator({ broker: broker.url });
  });
  afterAll(async () => {
    await operator?.stop();
    await broker?.close();
  });
  afterEach(async () => {
    await watched?.daemon?.kill("SIGKILL");
    watched?.watcher.stop();
    watched?.rig.close();
    watched = null;
  });

  /** Starts a daemon that dies at `killAt` once `work` is sent; restarts it; returns once it settled. */
  async function killAndRecover(w: Watched, killAt: string, work: () => Promise<unknown>): Promise<void> {
    expect(await w.start(killAt), w.tail()).toBe("up");
    await work();
    expect(await w.daemon!.exited, w.tail()).toBe("SIGKILL");
    expect(await w.start(), w.tail()).toBe("up");
    expect(await w.settleOrDie(90_000)).toBe("settled");
    const status = w.statusProblem();
    await w.stop();
    expect(status).toBeNull();
  }

  async function watch(): Promise<Watched> {
    const w = new Watched(killRig(broker.url), operator);
    watched = w;
    await w.watcher.start();
    return w;
  }

  it("finishes the update on every module when killed halfway through writing an A/B module's slot", async () => {
    const w = await watch();
    await killAndRecover(w, "write:radio:9", () =>
      publishBundle(operator, { gateway: w.rig.gateway }, releaseBundle(w.rig, 1, "2.0.0"), w.rig.prefix),
    );
    expect(judgeFlash(w.rig, ["2.0.0"])).toBeNull();
  }, 180_000);

  it("puts every module back on the old release when killed while a failed bundle restores the single-slot module", async () => {
    const w = await watch();
    // power writes 16 pages of 2.0.0, then (the sensor's new firmware crashing) 16 of 1.0.0 back: 24 is mid-restore.
    await killAndRecover(w, "write:power:24", () =>
      publishBundle(
        operator,
        { gateway: w.rig.gateway },
        releaseBundle(w.rig, 1, "2.0.0", true),
        w.rig.prefix,
      ),
    );
    expect(judgeFlash(w.rig, ["1.0.0"])).toBeNull();
  }, 180_000);

  it("completes a signed remote rollback on every module when killed halfway through it", async () => {
    const w = await watch();
    expect(await w.start()).toBe("up");
    await publishBundle(operator, { gateway: w.rig.gateway }, releaseBundle(w.rig, 1, "2.0.0"), w.rig.prefix);
    await w.watcher.until(() => w.gw()?.status?.bundle?.state === "committed", 90_000, "2.0.0 committed");
    expect(await w.settleOrDie(60_000)).toBe("settled");
    await w.stop();
    expect(judgeFlash(w.rig, ["2.0.0"])).toBeNull();

    const rollback = fleetCommand(w.rig.key, { kind: "rollback", gateway: w.rig.gateway, sequence: 1 });
    await killAndRecover(w, "write:power:8", () =>
      operator.publishAndWait(gatewayTopics(w.rig.prefix, w.rig.gateway).command, rollback, { qos: 1 }),
    );
    expect(judgeFlash(w.rig, ["1.0.0"])).toBeNull();
  }, 180_000);
});
