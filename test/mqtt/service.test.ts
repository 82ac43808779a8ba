import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayService } from "../../src/mqtt/gateway/service.js";
import { startAedes, uniquePrefix } from "../integration/helpers/brokers.js";
import type { TestBroker } from "../integration/helpers/brokers.js";
import { FakeEngine } from "./fake-engine.js";
import type { BundleOutcome } from "../../src/gateway/index.js";
import { observe, text } from "./helpers.js";

/** A fake engine whose start takes a while and reports a recovered module on the way, like the real one after a crash. */
class SlowStartEngine extends FakeEngine {
  startedAt: number | null = null;
  release!: () => void;
  stopped = false;

  async start(): Promise<void> {
    this.set("power", { state: "rolling-back", note: "rolled back after restart" });
    await new Promise<void>((resolve) => (this.release = resolve));
    this.set("power", { state: "rolled-back" });
    this.startedAt = Date.now();
  }

  override submitBundle(bytes: Uint8Array, via: { topic?: string }): Promise<BundleOutcome> {
    if (this.startedAt === null) throw new Error("bundle handed over before start() finished");
    return super.submitBundle(bytes, via);
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}

describe("gateway service", () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("publishes recovery status while the engine starts, holds bundles until it has, and says goodbye on stop", async () => {
    const prefix = uniquePrefix("service");
    const obs = await observe(broker.url, [`${prefix}/#`]);
    const engine = new SlowStartEngine("gw-s", ["power"]);
    const starting = startGatewayService({
      engine,
      gateway: { id: "gw-s", groups: [] },
      mqtt: { url: broker.url, prefix },
      backoff: { initialMs: 50 },
    });
    const statusTopic = `${prefix}/gw-s/modules/power/status`;
    await obs.waitFor(
      (m) => m.topic === statusTopic && text(m).includes('"rolling-back"'),
      5000,
      "recovery status",
    );
    await obs.waitFor((m) => m.topic === `${prefix}/gw-s/online` && text(m) === "online", 5000, "online");
    await obs.connection.publishAndWait(`${prefix}/in/gw-s/update`, new Uint8Array([1, 2]));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(engine.bundles).toHaveLength(0);

    engine.release();
    const service = await starting;
    await expect.poll(() => engine.bundles.length).toBe(1);
    await obs.waitFor(
      (m) => m.topic === statusTopic && text(m).includes('"rolled-back"'),
      5000,
      "recovered status",
    );

    await service.stop();
    expect(engine.stopped).toBe(true);
    await obs.waitFor(
      (m) => m.topic === `${prefix}/gw-s/online` && text(m) === "offline",
      5000,
      "online false",
    );
    await obs.close();
  });
});
