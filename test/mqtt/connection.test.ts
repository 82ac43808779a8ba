import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { brokerSuites, freePort, uniquePrefix } from "../integration/helpers/brokers.js";
import type { TestBroker } from "../integration/helpers/brokers.js";
import { observe, sleep, text } from "./helpers.js";
import type { Observer } from "./helpers.js";

const suites = brokerSuites();

for (const suite of suites) {
  describe.skipIf(suite.skip !== null)(`MQTT connection ${suite.title}`, () => {
    let broker: TestBroker;
    const open: Array<{ stop(): Promise<void> } | Observer> = [];

    beforeAll(async () => {
      broker = await suite.start();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      for (const c of open.splice(0)) await ("close" in c ? c.close() : c.stop());
    });

    function connection(
      extra: Partial<ConstructorParameters<typeof MqttConnection>[0]> = {},
    ): MqttConnection {
      const c = new MqttConnection({
        url: broker.url,
        clientId: `test-${randomUUID().slice(0, 8)}`,
        backoff: { initialMs: 50, maxMs: 200 },
        ...extra,
      });
      open.push(c);
      return c;
    }

    it(`negotiates MQTT ${suite.kind === "aedes" ? "3.1.1 after aedes refuses 5" : "5"}`, async () => {
      const c = connection();
      const connected = new Promise<{ protocolVersion: number }>((resolve) => c.once("connected", resolve));
      c.start();
      expect((await connected).protocolVersion).toBe(suite.kind === "aedes" ? 4 : 5);
    });

    it("publishes retained state set before connecting, and subscribes to what was asked", async () => {
      const prefix = uniquePrefix("conn");
      const c = connection();
      c.setRetained(`${prefix}/a`, "early");
      c.start();
      await c.waitConnected(5000);
      const obs = await observe(broker.url, [`${prefix}/#`]);
      open.push(obs);
      await obs.waitFor((m) => m.topic === `${prefix}/a` && m.retain, 3000, "retained a");
      expect(obs.texts(`${prefix}/a`)).toEqual(["early"]);

      const inbound: string[] = [];
      c.on("message", (m) => inbound.push(`${m.topic}=${text(m)}`));
      await c.subscribe([{ filter: `${prefix}/in`, qos: 1 }]);
      await obs.connection.publishAndWait(`${prefix}/in`, "hello");
      await expect.poll(() => inbound).toEqual([`${prefix}/in=hello`]);
    });

    it("sends the last will when the client process dies without disconnecting", async () => {
      const topic = `${uniquePrefix("will")}/online`;
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "test/mqtt/fixtures/will-client.ts", broker.url, topic],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("connected") && resolve());
        child.once("exit", (code, signal) =>
          reject(new Error(`will-client exited with ${code ?? signal}: ${stderr}`)),
        );
      });
      const obs = await observe(broker.url, [topic]);
      open.push(obs);
      // Bounds are generous on purpose: the child starts through tsx, slow on a loaded machine.
      await obs.waitFor((m) => text(m) === "true", 20_000, "online true");
      child.kill("SIGKILL");
      await obs.waitFor((m) => text(m) === "false", 20_000, "last will false");
      expect(obs.texts(topic)).toEqual(["true", "false"]);
    }, 90_000);

    it("fails fast when asked not to retry the first connection", async () => {
      const port = await freePort();
      const c = connection({ url: `mqtt://127.0.0.1:${port}`, retryInitialConnect: false });
      await expect(c.waitConnected(5000)).rejects.toThrow(
        /cannot connect to mqtt:\/\/127\.0\.0\.1:\d+.*\[connect-failed\]/,
      );
    });

    it("drops transient messages while offline and sends queued ones on reconnect", async (ctx) => {
      if (!broker.controllable) ctx.skip("needs a broker this test can stop");
      const prefix = uniquePrefix("queue");
      // A slow retry, so the observer below is subscribed before the queued message goes out.
      const c = connection({ backoff: { initialMs: 1500, maxMs: 1500 } });
      c.start();
      await c.waitConnected(5000);
      await broker.stop();
      await expect.poll(() => c.connected).toBe(false);
      expect(c.publish(`${prefix}/event`, "lost")).toBe(false);
      expect(c.publish(`${prefix}/response`, "kept", { queue: true })).toBe(false);
      await broker.restart();
      const obs = await observe(broker.url, [`${prefix}/#`]);
      open.push(obs);
      await c.waitConnected(10_000);
      await obs.waitFor((m) => m.topic === `${prefix}/response`, 5000, "queued response");
      await sleep(200);
      expect(obs.texts(`${prefix}/event`)).toEqual([]);
      expect(obs.texts(`${prefix}/response`)).toEqual(["kept"]);
    });

    it("re-publishes only the latest retained value per topic after the broker comes back, and resubscribes", async (ctx) => {
      if (!broker.controllable) ctx.skip("needs a broker this test can stop");
      const prefix = uniquePrefix("restart");
      const c = connection();
      c.setRetained(`${prefix}/status`, "v0");
      c.start();
      await c.waitConnected(5000);
      await c.subscribe([{ filter: `${prefix}/in`, qos: 1 }]);
      await broker.stop();
      await expect.poll(() => c.connected).toBe(false);
      for (let i = 1; i <= 20; i++) c.setRetained(`${prefix}/status`, `v${i}`);
      const reconnected = new Promise<void>((resolve) => c.once("connected", () => resolve()));
      await broker.restart();
      const obs = await observe(broker.url, [`${prefix}/#`]);
      open.push(obs);
      await reconnected;
      await obs.waitFor((m) => m.topic === `${prefix}/status` && text(m) === "v20", 5000, "latest status");
      await sleep(200);
      // The broker lost its retained store; only the newest value was sent again, none of the 19 before it.
      expect(obs.texts(`${prefix}/status`)).toEqual(["v20"]);

      const inbound: string[] = [];
      c.on("message", (m) => inbound.push(text(m)));
      await obs.connection.publishAndWait(`${prefix}/in`, "after-restart");
      await expect.poll(() => inbound, { timeout: 3000 }).toEqual(["after-restart"]);
    });

    // aedes speaks MQTT 3.1.1 only, which has no No Local: the case exists on Mosquitto alone.
    if (suite.kind === "mosquitto")
      it("does not get its own publishes back on MQTT 5 (No Local)", async () => {
        const prefix = uniquePrefix("nolocal");
        const c = connection();
        c.start();
        await c.waitConnected(5000);
        expect(c.protocolVersion).toBe(5);
        const inbound: string[] = [];
        c.on("message", (m) => inbound.push(text(m)));
        await c.subscribe([{ filter: `${prefix}/x`, qos: 1, noLocal: true }]);
        await c.publishAndWait(`${prefix}/x`, "mine");
        const obs = await observe(broker.url, []);
        open.push(obs);
        await obs.connection.publishAndWait(`${prefix}/x`, "theirs");
        await expect.poll(() => inbound).toEqual(["theirs"]);
      });

    it("carries MQTT 5 correlation data and response topic when both ends speak 5", async () => {
      const prefix = uniquePrefix("props");
      const obs = await observe(broker.url, [`${prefix}/req`]);
      open.push(obs);
      const c = connection();
      c.start();
      await c.waitConnected(5000);
      await c.publishAndWait(`${prefix}/req`, "x", {
        correlationData: new TextEncoder().encode("id-1"),
        responseTopic: `${prefix}/resp`,
      });
      const m = await obs.waitFor((msg) => msg.topic === `${prefix}/req`);
      if (suite.kind === "mosquitto") {
        expect(new TextDecoder().decode(m.correlationData)).toBe("id-1");
        expect(m.responseTopic).toBe(`${prefix}/resp`);
      } else {
        // 3.1.1 has no properties: the operator tools put the correlation id in the topic instead.
        expect(m.correlationData).toBeNull();
      }
    });
  });
}
