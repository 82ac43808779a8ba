/**
 * Home Assistant discovery end to end on a real Mosquitto: the discovery configs a gateway retains
 * are checked against Home Assistant's documented MQTT schemas, then a whole update, a failed one and
 * a rollback command are followed through the `update` entity's state, as Home Assistant would see
 * them. Also: a module removed from the configuration loses its retained topics at start.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectOperator, publishBundle, sendCommand } from "../../src/mqtt/operator/operator.js";
import { retireGateway } from "../../src/mqtt/operator/retire.js";
import type { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { fleetBundle, fleetCommand } from "../../src/sim/world/fleet.js";
import { createWorld } from "../../src/sim/world/world.js";
import type { World } from "../../src/sim/world/world.js";
import { mosquittoRequired, mosquittoUnavailable, startMosquitto, uniquePrefix } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";

/**
 * The MQTT update platform's discovery options with their documented types
 * (https://www.home-assistant.io/integrations/update.mqtt/, "Configuration Variables"), and the
 * shared ones (availability, device, origin: https://www.home-assistant.io/integrations/mqtt/).
 * Strict: a key Home Assistant does not document for this platform fails the test.
 */
const availabilitySchema = z.array(
  z.strictObject({
    topic: z.string().min(1),
    payload_available: z.string().optional(),
    payload_not_available: z.string().optional(),
    value_template: z.string().optional(),
  }),
);
const deviceSchema = z.strictObject({
  identifiers: z.union([z.string(), z.array(z.string())]),
  name: z.string().optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  model_id: z.string().optional(),
  sw_version: z.string().optional(),
  hw_version: z.string().optional(),
  serial_number: z.string().optional(),
  suggested_area: z.string().optional(),
  configuration_url: z.string().optional(),
  connections: z.array(z.tuple([z.string(), z.string()])).optional(),
  via_device: z.string().optional(),
});
const originSchema = z.strictObject({
  name: z.string(),
  sw_version: z.string().optional(),
  support_url: z.string().optional(),
});
const common = {
  availability: availabilitySchema.optional(),
  availability_mode: z.enum(["all", "any", "latest"]).optional(),
  availability_topic: z.string().optional(),
  device: deviceSchema.optional(),
  origin: originSchema.optional(),
  enabled_by_default: z.boolean().optional(),
  entity_category: z.enum(["config", "diagnostic"]).optional(),
  entity_picture: z.string().optional(),
  icon: z.string().optional(),
  json_attributes_template: z.string().optional(),
  json_attributes_topic: z.string().optional(),
  name: z.string().nullable().optional(),
  object_id: z.string().optional(),
  default_entity_id: z.string().optional(),
  qos: z.number().int().min(0).max(2).optional(),
  unique_id: z.string().optional(),
};
const haUpdateConfig = z.strictObject({
  ...common,
  command_topic: z.string().optional(),
  device_class: z.enum(["firmware"]).nullable().optional(),
  encoding: z.string().optional(),
  latest_version_template: z.string().optional(),
  latest_version_topic: z.string().optional(),
  payload_install: z.string().optional(),
  release_summary: z.string().optional(),
  release_url: z.string().optional(),
  retain: z.boolean().optional(),
  state_topic: z.string().optional(),
  title: z.string().optional(),
  value_template: z.string().optional(),
});
const haSensorConfig = z.strictObject({
  ...common,
  device_class: z.string().nullable().optional(),
  state_class: z.string().optional(),
  state_topic: z.string(),
  unit_of_measurement: z.string().optional(),
  value_template: z.string().optional(),
  expire_after: z.number().optional(),
  force_update: z.boolean().optional(),
});
/** The JSON state an update entity reads from its state_topic (update.mqtt, "state_topic"). */
const haUpdateState = z.strictObject({
  installed_version: z.string().nullable(),
  latest_version: z.string().nullable(),
  title: z.string().optional(),
  release_summary: z.string().max(255).optional(),
  release_url: z.string().optional(),
  entity_picture: z.string().optional(),
  in_progress: z.boolean().optional(),
  update_percentage: z.number().min(0).max(100).nullable().optional(),
});
type HaUpdateState = z.infer<typeof haUpdateState>;

const unavailable = mosquittoUnavailable();
const skip = unavailable && !mosquittoRequired ? unavailable : null;

describe.skipIf(skip !== null)(
  `Home Assistant discovery on Mosquitto${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    let broker: TestBroker;
    let world: World | null = null;
    let observer: MqttConnection | null = null;

    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      await observer?.stop();
      observer = null;
      await world?.close();
      world = null;
    });

    /** Everything published under the filters, in order. */
    async function observe(filters: string[]): Promise<Array<{ topic: string; text: string }>> {
      observer = await connectOperator({ broker: broker.url });
      const seen: Array<{ topic: string; text: string }> = [];
      observer.on("message", (m) => seen.push({ topic: m.topic, text: new TextDecoder().decode(m.payload) }));
      await observer.subscribe(filters.map((filter) => ({ filter, qos: 1 })));
      return seen;
    }

    async function until(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    async function runFinished(w: World, gateway: string, summary: string): Promise<void> {
      await w.watcher.until(
        (v) => {
          const run = v.gateway(gateway)?.status?.lastRun;
          return run?.summary === summary && typeof run.finishedAt === "string";
        },
        60_000,
        summary,
      );
    }

    it("announces a device per gateway and an update entity per module, and follows an update, a failure and a rollback through its state", async () => {
      const haPrefix = uniquePrefix("ha");
      const prefix = uniquePrefix("gw");
      const gateway = `gw-${randomUUID().slice(0, 6)}`;
      world = await createWorld({
        broker: broker.url,
        prefix,
        gateway,
        homeAssistantPrefix: haPrefix,
        timing: true,
        baud: 460_800,
        factorySize: 4096,
      });
      const w = world;
      const node = `subflash_${gateway.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
      const seen = await observe([`${haPrefix}/#`, `${prefix}/${gateway}/modules/+/homeassistant`]);
      const configTopic = `${haPrefix}/update/${node}/motor/config`;
      await until("the discovery configs", () =>
        ["power", "motor", "radio"].every((m) =>
          seen.some((s) => s.topic === `${haPrefix}/update/${node}/${m}/config`),
        ),
      );

      // Discovery: Home Assistant's documented schema, one gateway device, modules via it, no Install.
      const updates = seen.filter((s) => s.topic.startsWith(`${haPrefix}/update/`));
      const uniqueIds = new Set<string>();
      for (const message of updates) {
        const config = haUpdateConfig.parse(JSON.parse(message.text));
        expect(config.device_class).toBe("firmware");
        expect(config.device!.via_device).toBe(node);
        expect(config.availability).toEqual([
          {
            topic: `${prefix}/${gateway}/online`,
            payload_available: "online",
            payload_not_available: "offline",
          },
        ]);
        expect(config.command_topic).toBeUndefined();
        expect(config.payload_install).toBeUndefined();
        uniqueIds.add(config.unique_id!);
      }
      expect(uniqueIds.size).toBe(3);
      const sensors = seen.filter((s) => s.topic.startsWith(`${haPrefix}/sensor/`));
      for (const message of sensors) haSensorConfig.parse(JSON.parse(message.text));
      const gatewaySensor = sensors.find((s) => s.topic.endsWith("/last_run/config"))!;
      expect(JSON.parse(gatewaySensor.text).device).toMatchObject({ identifiers: [node] });
      expect(sensors.map((s) => s.topic)).toContain(`${haPrefix}/sensor/${node}/motor_last_error/config`);

      const stateTopic = `${prefix}/${gateway}/modules/motor/homeassistant`;
      const states = (): HaUpdateState[] =>
        seen.filter((s) => s.topic === stateTopic).map((s) => haUpdateState.parse(JSON.parse(s.text)));
      await until("the motor's first state", () => states().length > 0);
      // Until reconciliation reads it from the module, the factory version is unknown: null, not a guess.
      expect(states().at(-1)).toMatchObject({ in_progress: false });

      // A whole update: percentage 0 → 100 without going down, in_progress true then false.
      const before = states().length;
      await publishBundle(
        w.operator,
        { gateway },
        fleetBundle(
          {
            sequence: 1,
            release: "r1",
            gateways: [gateway],
            imageSize: 16 * 1024,
            modules: { motor: { version: "2.0.0" } },
            tweak: (m) => {
              m.notes = { summary: "Faster motor ramp", url: "https://example.com/r1" };
            },
          },
          w.key,
        ),
        prefix,
      );
      await until("the update to finish", () => {
        const last = states().at(-1);
        return (
          states().length > before + 2 && last?.in_progress === false && last.installed_version === "2.0.0"
        );
      });
      const during = states().slice(before);
      const percents = during
        .filter((s) => s.in_progress && s.update_percentage !== null)
        .map((s) => s.update_percentage!);
      expect(during[0]!.in_progress).toBe(true);
      expect(percents.length).toBeGreaterThan(2);
      for (let i = 1; i < percents.length; i++) expect(percents[i]!).toBeGreaterThanOrEqual(percents[i - 1]!);
      expect(Math.max(...percents)).toBe(100);
      expect(during.at(-1)).toMatchObject({
        installed_version: "2.0.0",
        latest_version: "2.0.0",
        in_progress: false,
        update_percentage: null,
        release_summary: "Faster motor ramp",
        release_url: "https://example.com/r1",
      });

      await runFinished(w, gateway, "bundle r1 committed");

      // A failure: the offered release stays the latest, the installed one is unchanged.
      const beforeFailure = states().length;
      await publishBundle(
        w.operator,
        { gateway },
        fleetBundle(
          {
            sequence: 2,
            release: "r2",
            gateways: [gateway],
            imageSize: 16 * 1024,
            modules: { motor: { version: "3.0.0", behaviour: "crash-on-boot" } },
          },
          w.key,
        ),
        prefix,
      );
      await until("the failed update to settle", () => {
        const last = states().at(-1);
        return states().length > beforeFailure + 1 && last?.in_progress === false;
      });
      expect(states().at(-1)).toMatchObject({ installed_version: "2.0.0", latest_version: "3.0.0" });
      await w.watcher.until(
        (v) => v.gateway(gateway)?.modules.get("motor")?.lastError?.code === "health-check-failed",
        10_000,
        "the failure's code",
      );

      await runFinished(w, gateway, "bundle r2 failed (health-check-failed)");

      // A rollback command: back to 1.0.0; the gateway's line and the module agree.
      await sendCommand(w.operator, {
        gateway,
        command: fleetCommand(w.key, { kind: "rollback", gateway, sequence: 3, module: "motor" }),
        prefix,
      });
      await until(
        "the rollback",
        () => states().at(-1)?.installed_version === "1.0.0" && states().at(-1)?.in_progress === false,
      );
      expect(states().at(-1)).toMatchObject({ installed_version: "1.0.0", latest_version: "3.0.0" });
      await w.watcher.until(
        (v) => v.gateway(gateway)?.status?.lastRun?.summary === "rollback committed",
        10_000,
        "the rollback summary",
      );
      expect(w.watcher.view.gateway(gateway)!.modules.get("motor")).toMatchObject({
        state: "rolled-back",
        version: "1.0.0",
      });

      // Home Assistant's birth message: discovery is published again.
      const configs = seen.filter((s) => s.topic === configTopic).length;
      await w.operator.publishAndWait(`${haPrefix}/status`, "online", { qos: 1 });
      await until(
        "discovery again",
        () => seen.filter((s) => s.topic === configTopic).length > configs,
        10_000,
      );
    }, 180_000);

    it("clears the retained status and discovery of a module no longer in the configuration", async () => {
      const haPrefix = uniquePrefix("ha");
      const prefix = uniquePrefix("gw");
      const gateway = `gw-${randomUUID().slice(0, 6)}`;
      const node = `subflash_${gateway}`;
      const ghost = `${prefix}/${gateway}/modules/ghost/status`;
      const ghostConfig = `${haPrefix}/update/${node}/ghost/config`;
      const setup = await connectOperator({ broker: broker.url });
      await setup.publishAndWait(ghost, JSON.stringify({ module: "ghost", state: "idle", seq: 1 }), {
        retain: true,
      });
      await setup.publishAndWait(ghostConfig, JSON.stringify({ name: "Firmware" }), { retain: true });
      await setup.stop();

      world = await createWorld({
        broker: broker.url,
        prefix,
        gateway,
        homeAssistantPrefix: haPrefix,
        timing: false,
      });
      await until("the ghost's topics to be swept", () => world!.service.sweeper!.swept.has("ghost"), 10_000);
      // A fresh subscriber finds nothing retained for it any more.
      const seen = await observe([ghost, ghostConfig, `${prefix}/${gateway}/modules/+/status`]);
      await until(
        "the live modules' retained status",
        () => seen.filter((s) => s.topic.endsWith("/status")).length >= 3,
        10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.filter((s) => s.topic === ghost || s.topic === ghostConfig)).toEqual([]);
    }, 60_000);

    it("retires a gateway: refuses while it is online, then clears every retained topic it left, discovery included", async () => {
      const haPrefix = uniquePrefix("ha");
      const prefix = uniquePrefix("gw");
      const gateway = `gw-${randomUUID().slice(0, 6)}`;
      world = await createWorld({
        broker: broker.url,
        prefix,
        gateway,
        homeAssistantPrefix: haPrefix,
        timing: false,
      });
      const operator = await connectOperator({ broker: broker.url });
      try {
        await expect(retireGateway(operator, { prefix, gateway, haPrefix })).rejects.toThrow(
          /\[gateway-online\]/,
        );
        await world.service.stop();
        const cleared = await retireGateway(operator, { prefix, gateway, haPrefix });
        expect(cleared).toContain(`${prefix}/${gateway}/online`);
        expect(cleared).toContain(`${prefix}/${gateway}/modules/motor/status`);
        expect(cleared).toContain(`${haPrefix}/update/subflash_${gateway}/motor/config`);
      } finally {
        await operator.stop();
      }
      const seen = await observe([`${prefix}/#`, `${haPrefix}/#`]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen.filter((m) => m.text.length > 0)).toEqual([]);
    }, 60_000);
  },
);
