import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayBridge } from "../../src/mqtt/gateway/bridge.js";
import { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { gatewayTopics } from "../../src/mqtt/contract/topics.js";
import { brokerSuites, uniquePrefix } from "../integration/helpers/brokers.js";
import type { TestBroker } from "../integration/helpers/brokers.js";
import { FakeEngine } from "./fake-engine.js";
import { observe, sleep, text } from "./helpers.js";
import type { Observer } from "./helpers.js";

const suites = brokerSuites();

for (const suite of suites) {
  describe.skipIf(suite.skip !== null)(`gateway bridge ${suite.title}`, () => {
    let broker: TestBroker;
    const cleanup: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      broker = await suite.start();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    async function setup(opts: { maxBundleBytes?: number; groups?: string[] } = {}) {
      const prefix = uniquePrefix("bridge");
      const engine = new FakeEngine("gw-1", ["power", "radio"]);
      const connection = new MqttConnection({
        url: broker.url,
        clientId: `gw-${randomUUID().slice(0, 8)}`,
        will: { topic: gatewayTopics(prefix, "gw-1").online, payload: "offline", retain: true },
        backoff: { initialMs: 50, maxMs: 200 },
      });
      const bridge = new GatewayBridge({
        engine,
        connection,
        gateway: { id: "gw-1", groups: opts.groups ?? ["lab"] },
        prefix,
        statusIntervalMs: 200,
        progressIntervalMs: 400,
        ...(opts.maxBundleBytes !== undefined ? { maxBundleBytes: opts.maxBundleBytes } : {}),
      });
      let stopped = false;
      cleanup.push(async () => {
        if (!stopped) await bridge.stop();
      });
      await bridge.start();
      await connection.waitConnected(5000);
      const obs = await observe(broker.url, [`${prefix}/#`]);
      cleanup.push(() => obs.close());
      const stop = async (): Promise<void> => {
        stopped = true;
        await bridge.stop();
      };
      return { prefix, engine, connection, bridge, obs, topics: bridge.topics, stop };
    }

    const json = (obs: Observer, topic: string): unknown[] =>
      obs.texts(topic).map((t) => JSON.parse(t) as unknown);

    it("publishes online, the gateway status and every module's status, retained, at start", async () => {
      const { obs, topics } = await setup();
      await obs.waitFor((m) => m.topic === topics.moduleStatus("radio"), 3000, "radio status");
      await obs.waitFor((m) => m.topic === topics.online, 3000, "online");
      // MQTT orders messages per topic only: wait for each topic before reading it.
      await obs.waitFor((m) => m.topic === topics.status, 3000, "gateway status");
      await obs.waitFor((m) => m.topic === topics.moduleStatus("power"), 3000, "power status");
      expect(obs.texts(topics.online)).toEqual(["online"]);
      expect(json(obs, topics.status)).toEqual([expect.objectContaining({ gateway: "gw-1", online: true })]);
      expect(json(obs, topics.moduleStatus("power"))).toEqual([
        expect.objectContaining({ module: "power", state: "idle" }),
      ]);
      expect(obs.messages.filter((m) => m.topic !== topics.events).every((m) => m.retain)).toBe(true);
    });

    it("sends state changes at once and coalesces progress, keeping the last value", async () => {
      const { engine, obs, topics } = await setup();
      await obs.waitFor((m) => m.topic === topics.moduleStatus("power"));
      engine.set("power", {
        state: "writing",
        progress: { phase: "write", done: 0, total: 100, percent: 0 },
      });
      for (let done = 1; done <= 50; done++) {
        engine.set("power", { progress: { phase: "write", done, total: 100, percent: done } });
        await sleep(10);
      }
      engine.set("power", {
        state: "verifying",
        progress: { phase: "verify", done: 0, total: 100, percent: 60 },
      });
      await obs.waitFor(
        (m) => m.topic === topics.moduleStatus("power") && text(m).includes('"verifying"'),
        3000,
        "verifying status",
      );
      await sleep(300);
      const statuses = json(obs, topics.moduleStatus("power")) as Array<{
        state: string;
        progress: { done: number } | null;
      }>;
      // ~500 ms of ticks at one status per 200 ms: a handful of messages, not 50.
      expect(statuses.length).toBeGreaterThanOrEqual(3);
      expect(statuses.length).toBeLessThan(10);
      expect(statuses.map((s) => s.state)).toContain("writing");
      expect(statuses.at(-1)!.state).toBe("verifying");
      // State changes are never lost or reordered behind a delayed progress tick.
      const states = statuses.map((s) => s.state);
      expect(states.indexOf("verifying")).toBe(states.length - 1);

      // Engine events go out with the gateway id; transitions all of them, progress at most one per 400 ms.
      const events = json(obs, topics.events) as Array<{
        type: string;
        gateway: string;
        module: string;
        from?: string;
        to?: string;
      }>;
      expect(events.filter((e) => e.type === "transition")).toEqual([
        expect.objectContaining({ gateway: "gw-1", module: "power", from: "idle", to: "writing" }),
        expect.objectContaining({ gateway: "gw-1", module: "power", from: "writing", to: "verifying" }),
      ]);
      const progress = events.filter((e) => e.type === "progress");
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.length).toBeLessThanOrEqual(3);
      // No progress tick after the transition it predates.
      expect(events.at(-1)).toMatchObject({ type: "transition", to: "verifying" });
    });

    it("hands bundles from the gateway and group topics to the engine, and drops oversize ones with an event", async () => {
      const { engine, obs, topics } = await setup({ maxBundleBytes: 1024, groups: ["lab"] });
      await obs.connection.publishAndWait(topics.update, new Uint8Array([1, 2, 3]));
      await obs.connection.publishAndWait(topics.groupUpdate("lab"), new Uint8Array([4]));
      await obs.connection.publishAndWait(topics.groupUpdate("other"), new Uint8Array([5]));
      await obs.connection.publishAndWait(topics.update, new Uint8Array(2048));
      await obs.connection.publishAndWait(topics.update, new Uint8Array(0));
      const tooLarge = await obs.waitFor(
        (m) => m.topic === topics.events && text(m).includes("bundle-too-large"),
      );
      expect(JSON.parse(text(tooLarge))).toMatchObject({
        type: "bundle-too-large",
        gateway: "gw-1",
        bytes: 2048,
        limit: 1024,
        topic: topics.update,
      });
      await sleep(100);
      expect(engine.bundles.map((b) => [b.topic, [...b.bytes]])).toEqual([
        [topics.update, [1, 2, 3]],
        [topics.groupUpdate("lab"), [4]],
      ]);
    });

    it("answers a command on its correlated response topic, and never takes its own response for a command", async () => {
      const { engine, obs, topics } = await setup();
      engine.commandOutcome = {
        ok: false,
        status: "error",
        command: null,
        modules: [],
        code: "replayed",
        message: "sequence 3 is not above 7",
        error: { code: "replayed", message: "sequence 3 is not above 7" },
      };
      // The 3.1.1 form: the correlation id is the last topic level.
      await obs.connection.subscribe([{ filter: `${topics.commandResponse}/#`, qos: 1 }]);
      await obs.connection.publishAndWait(topics.commandFor("req-1"), new Uint8Array([9, 9]));
      const response = await obs.waitFor(
        (m) => m.topic === topics.commandResponseFor("req-1"),
        3000,
        "response",
      );
      expect(JSON.parse(text(response))).toMatchObject({
        correlationId: "req-1",
        gateway: "gw-1",
        status: "error",
        error: { code: "replayed", message: "sequence 3 is not above 7" },
      });
      await sleep(100);
      expect(engine.commands).toHaveLength(1);
    });

    it("honours an MQTT 5 response topic under its own subtree only, echoing the correlation data", async () => {
      const { engine, obs, topics, connection } = await setup();
      engine.commandOutcome = {
        ok: true,
        status: "ok",
        command: "rollback",
        modules: [],
        message: "rolled back",
        data: {},
      };
      await obs.connection.subscribe([
        { filter: `${topics.commandResponse}/#`, qos: 1 },
        { filter: "elsewhere/#", qos: 1 },
      ]);
      const correlationData = new TextEncoder().encode("abc-5");
      await obs.connection.publishAndWait(topics.command, new Uint8Array([1]), {
        correlationData,
        responseTopic: `${topics.commandResponse}/inbox-5`,
      });
      await obs.connection.publishAndWait(topics.command, new Uint8Array([2]), {
        correlationData: new TextEncoder().encode("abc-6"),
        responseTopic: "elsewhere/inbox",
      });
      if (connection.protocolVersion === 5 && obs.connection.protocolVersion === 5) {
        const first = await obs.waitFor(
          (m) => m.topic === `${topics.commandResponse}/inbox-5`,
          3000,
          "inbox response",
        );
        expect(JSON.parse(text(first))).toMatchObject({
          correlationId: "abc-5",
          status: "ok",
          command: "rollback",
        });
        expect(new TextDecoder().decode(first.correlationData)).toBe("abc-5");
        const second = await obs.waitFor((m) => m.topic === topics.commandResponse, 3000, "default response");
        expect(JSON.parse(text(second))).toMatchObject({ correlationId: "abc-6" });
        expect(obs.texts("elsewhere/inbox")).toEqual([]);
      } else {
        // 3.1.1 carries no properties: both answers go to the shared response topic, uncorrelated.
        await expect.poll(() => obs.texts(topics.commandResponse).length).toBe(2);
        expect(JSON.parse(obs.texts(topics.commandResponse)[0]!)).toMatchObject({
          correlationId: null,
          status: "ok",
        });
      }
    });

    it("says goodbye on stop: final status with online false, then online false", async () => {
      const { obs, topics, stop } = await setup();
      await obs.waitFor((m) => m.topic === topics.online);
      await stop();
      await obs.waitFor((m) => m.topic === topics.online && text(m) === "offline", 3000, "offline");
      const statuses = json(obs, topics.status) as Array<{ online: boolean }>;
      expect(statuses.at(-1)!.online).toBe(false);
    });
  });
}
