/**
 * The gateway end to end through a real broker: the real update engine with its MQTT side and three
 * simulated modules (F103 single, G071 A/B, F407 A/B), driven only by what an operator publishes and
 * checked by what the broker carries back — run against Mosquitto and against the embedded aedes.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fleetBundle, fleetCommand } from "../../src/sim/world/fleet.js";
import type { FleetRelease } from "../../src/sim/world/fleet.js";
import { createWorld } from "../../src/sim/world/world.js";
import type { World } from "../../src/sim/world/world.js";
import { publishBundle, sendCommand } from "../../src/mqtt/operator/operator.js";
import { decodeBundle, encodeBundle } from "../../src/manifest/index.js";
import { createSigningKey } from "../../src/signing/keys.js";
import { brokerSuites, uniquePrefix } from "./helpers/brokers.js";
import { gatewayTopics } from "../../src/mqtt/contract/topics.js";
import type { InboundMessage } from "../../src/mqtt/connection/connection.js";
import { observe, text } from "../mqtt/helpers.js";
import type { TestBroker } from "./helpers/brokers.js";

const suites = brokerSuites();

const ALL = ["power", "motor", "radio"] as const;

for (const suite of suites) {
  describe.skipIf(suite.skip !== null)(`gateway ${suite.title}`, () => {
    let broker: TestBroker;
    let world: World | null = null;

    beforeAll(async () => {
      broker = await suite.start();
    });
    afterAll(async () => {
      await broker?.close();
    });
    afterEach(async () => {
      await world?.close();
      world = null;
    });

    async function open(opts: { timing?: boolean; baud?: number } = {}): Promise<World> {
      world = await createWorld({
        broker: broker.url,
        prefix: uniquePrefix("gw"),
        gateway: `gw-${randomUUID().slice(0, 6)}`,
        groups: ["line-3"],
        timing: opts.timing ?? false,
        ...(opts.baud !== undefined ? { baud: opts.baud } : {}),
        factorySize: 4096,
      });
      return world;
    }

    const bundle = (
      w: World,
      release: Omit<FleetRelease, "release" | "gateways"> & { release?: string },
    ): Uint8Array =>
      fleetBundle(
        { release: `r${release.sequence}`, gateways: [w.gateway], imageSize: 6144, ...release },
        w.key,
      );

    const moduleOf = (w: World, id: string) => w.watcher.view.gateway(w.gateway)?.modules.get(id);
    const statusOf = (w: World) => w.watcher.view.gateway(w.gateway)?.status;

    async function finished(w: World, sequence: number): Promise<string> {
      await w.watcher.until(
        () => {
          const b = statusOf(w)?.bundle;
          return (
            !!b &&
            b.sequence === sequence &&
            !["running", "verifying"].includes(b.state) &&
            ALL.every((id) => !busy(moduleOf(w, id)?.state))
          );
        },
        60_000,
        `bundle #${sequence} to finish`,
      );
      return statusOf(w)!.bundle!.state;
    }

    it("updates all three modules from one bundle and reports each one committed on its retained status", async () => {
      const w = await open();
      expect(w.service.connection.protocolVersion).toBe(suite.kind === "aedes" ? 4 : 5);
      const topic = await publishBundle(
        w.operator,
        { group: "line-3" },
        bundle(w, {
          sequence: 1,
          groups: ["line-3"],
          modules: {
            power: { version: "2.0.0" },
            motor: { version: "2.0.0" },
            radio: { version: "2.0.0" },
          },
        }),
        w.prefix,
      );
      expect(topic).toBe(`${w.prefix}/in/group/line-3/update`);
      expect(await finished(w, 1)).toBe("committed");
      for (const id of ALL) {
        expect(moduleOf(w, id)).toMatchObject({
          state: "committed",
          version: "2.0.0",
          release: "r1",
          sequence: 1,
          lastError: null,
        });
        expect(w.modules.running(id)).toBe("2.0.0");
      }
      expect(moduleOf(w, "motor")!.activeSlot).toBe("b");
      expect(moduleOf(w, "power")!.activeSlot).toBe("single");
      expect(w.watcher.view.gateway(w.gateway)!.online).toBe(true);
    });

    it("rolls the whole bundle back when one module fails its health check, and says which one", async () => {
      const w = await open();
      const events: Array<{ type: string; module?: unknown; to?: unknown }> = [];
      w.watcher.on("event", (e) => events.push(e));
      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, {
          sequence: 1,
          modules: {
            power: { version: "2.0.0", order: 0 },
            motor: { version: "2.0.0", order: 1 },
            radio: { version: "2.0.0", order: 2, behaviour: "crash-on-boot" },
          },
        }),
        w.prefix,
      );
      expect(await finished(w, 1)).toBe("failed");
      expect(statusOf(w)!.bundle!.error!.code).toBe("health-check-failed");
      for (const id of ALL) {
        expect(moduleOf(w, id)).toMatchObject({ state: "rolled-back", version: "1.0.0" });
        expect(w.modules.running(id)).toBe("1.0.0");
      }
      expect(moduleOf(w, "radio")!.lastError!.code).toBe("health-check-failed");
      const order = events
        .filter((e) => e.type === "transition" && e.to === "rolling-back")
        .map((e) => e.module);
      expect(order.filter((m, i) => order.indexOf(m) === i)).toEqual(["radio", "motor", "power"]);
    });

    it("publishes the inventory before the status that ends a bundle, so a watcher never pairs a failed outcome with stale module states", async () => {
      const w = await open();
      const topics = gatewayTopics(w.prefix, w.gateway);
      const obs = await observe(broker.url, [topics.status, topics.inventory]);
      try {
        await publishBundle(
          w.operator,
          { gateway: w.gateway },
          bundle(w, {
            sequence: 1,
            modules: {
              power: { version: "2.0.0", order: 0 },
              motor: { version: "2.0.0", order: 1, behaviour: "crash-on-boot" },
            },
          }),
          w.prefix,
        );
        const failed = (m: InboundMessage): boolean =>
          m.topic === topics.status && JSON.parse(text(m)).bundle?.state === "failed";
        await obs.waitFor(failed, 60_000, "the failed bundle status");
        // In arrival order (one publisher, so the broker keeps its order): the last inventory before
        // the failed status already shows the module that failed, with its error.
        const before = obs.messages.slice(0, obs.messages.findIndex(failed));
        const inventory = before.filter((m) => m.topic === topics.inventory).at(-1);
        expect(inventory, "an inventory before the failed status").toBeDefined();
        const motor = (
          JSON.parse(text(inventory!)) as { modules: Array<Record<string, unknown>> }
        ).modules.find((m) => m.module === "motor");
        expect(motor).toMatchObject({ state: "rolled-back", error: { code: "health-check-failed" } });
      } finally {
        await obs.close();
      }
    });

    it("rolls back on a signed command, answers with the caller's correlation id, and refuses the same command replayed", async () => {
      const w = await open();
      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, { sequence: 1, modules: { power: { version: "2.0.0" }, motor: { version: "2.0.0" } } }),
        w.prefix,
      );
      expect(await finished(w, 1)).toBe("committed");
      const command = fleetCommand(w.key, {
        kind: "rollback",
        gateway: w.gateway,
        sequence: 7,
        module: "motor",
      });
      const response = await sendCommand(w.operator, {
        gateway: w.gateway,
        command,
        prefix: w.prefix,
        correlationId: "first-try",
      });
      expect(response).toMatchObject({
        correlationId: "first-try",
        gateway: w.gateway,
        status: "ok",
        command: "rollback",
        modules: ["motor"],
      });
      await w.watcher.until(() => moduleOf(w, "motor")?.state === "rolled-back", 30_000, "motor rolled back");
      expect(moduleOf(w, "motor")).toMatchObject({ version: "1.0.0", activeSlot: "a" });
      expect(w.modules.running("motor")).toBe("1.0.0");
      expect(moduleOf(w, "power")).toMatchObject({ state: "committed", version: "2.0.0" });

      const replay = await sendCommand(w.operator, {
        gateway: w.gateway,
        command,
        prefix: w.prefix,
        correlationId: "second-try",
      });
      expect(replay).toMatchObject({
        correlationId: "second-try",
        status: "error",
        error: { code: "replayed" },
      });
      expect(w.modules.running("motor")).toBe("1.0.0");
    });

    it("refuses every bad bundle with its code on the gateway status and touches no module", async () => {
      const w = await open();
      // A first good release sets the sequence (1) and the security floors (1) that later ones are held to.
      const good = bundle(w, {
        sequence: 1,
        modules: {
          power: { version: "2.0.0", securityVersion: 1 },
          motor: { version: "2.0.0", securityVersion: 1 },
        },
      });
      await publishBundle(w.operator, { gateway: w.gateway }, good, w.prefix);
      expect(await finished(w, 1)).toBe("committed");

      const now = Math.floor(Date.now() / 1000);
      const motorOnly = (
        sequence: number,
        tweak?: FleetRelease["tweak"],
        extra: Partial<FleetRelease> = {},
      ) =>
        bundle(w, {
          sequence,
          modules: { motor: { version: "3.0.0", securityVersion: 1 } },
          ...(tweak ? { tweak } : {}),
          ...extra,
        });
      const cases: Array<[string, Uint8Array]> = [
        ["malformed-bundle", new TextEncoder().encode("this is not a bundle")],
        [
          "unknown-key",
          fleetBundle(
            { sequence: 2, release: "x", gateways: [w.gateway], modules: { motor: { version: "3.0.0" } } },
            createSigningKey(),
          ),
        ],
        ["bad-signature", flipSignatureByte(motorOnly(2))],
        ["expired", motorOnly(2, (m) => ((m.issuedAt = now - 7200), (m.expires = now - 3600)))],
        ["not-yet-valid", motorOnly(2, (m) => ((m.issuedAt = now + 7200), (m.expires = now + 9000)))],
        [
          "not-for-this-gateway",
          motorOnly(2, (m) => (m.targets = { gateways: ["some-other-gateway"], groups: [] })),
        ],
        ["replayed", motorOnly(1)],
        [
          "downgrade",
          bundle(w, { sequence: 2, modules: { motor: { version: "3.0.0", securityVersion: 0 } } }),
        ],
        ["wrong-device", motorOnly(2, (m) => (m.modules["motor-board"]!.device.pid = 0x413))],
        ["digest-mismatch", tamperImage(motorOnly(2))],
      ];
      const touched = (): string =>
        ALL.map((id) => `${id}:${w.modules.sims.get(id)!.stats.bytesReceived}:${moduleOf(w, id)?.seq}`).join(
          " ",
        );
      // Start-up reconciliation learns the untouched radio's version; let that status arrive first.
      await w.watcher.until(
        () => ALL.every((id) => moduleOf(w, id)?.version != null),
        10_000,
        "every module's version known",
      );
      const before = touched();
      for (const [code, bytes] of cases) {
        const last = statusOf(w)?.lastRejected?.at ?? "";
        await publishBundle(w.operator, { gateway: w.gateway }, bytes, w.prefix);
        await w.watcher.until(
          () => (statusOf(w)?.lastRejected?.at ?? "") !== last,
          10_000,
          `refusal ${code}`,
        );
        expect(statusOf(w)!.lastRejected!.error.code, `expected ${code}`).toBe(code);
      }
      // Not one byte went to any module, and no module status changed.
      expect(touched()).toBe(before);
      expect(statusOf(w)!.lastSequence).toBe(1);
      for (const id of ["power", "motor"]) expect(w.modules.running(id)).toBe("2.0.0");
    });

    it("drops a bundle over the size limit with a bundle-too-large event", async () => {
      const w = await open();
      const events: Array<{ type: string; bytes?: unknown; limit?: unknown }> = [];
      w.watcher.on("event", (e) => events.push(e));
      await publishBundle(w.operator, { gateway: w.gateway }, new Uint8Array(16 * 1024 * 1024 + 1), w.prefix);
      await expect
        .poll(() => events.find((e) => e.type === "bundle-too-large"), { timeout: 10_000 })
        .toMatchObject({ bytes: 16 * 1024 * 1024 + 1, limit: 16 * 1024 * 1024 });
      expect(statusOf(w)?.lastRejected ?? null).toBeNull();
    });

    it("finishes an update while the broker is down and publishes the final status when it is back", async (ctx) => {
      if (!broker.controllable) ctx.skip("needs a broker this test can stop");
      const w = await open({ timing: true, baud: 115_200 });
      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, { sequence: 1, modules: { motor: { version: "2.0.0" }, radio: { version: "2.0.0" } } }),
        w.prefix,
      );
      await w.watcher.until(() => moduleOf(w, "motor")?.state === "writing", 30_000, "motor writing");
      await broker.stop();
      // The update goes on without the broker.
      await w.engine.idle();
      expect(w.modules.running("motor")).toBe("2.0.0");
      expect(w.service.connection.connected).toBe(false);
      await broker.restart();
      await w.watcher.until(
        () => statusOf(w)?.bundle?.state === "committed" && moduleOf(w, "radio")?.state === "committed",
        30_000,
        "final status after reconnect",
      );
      expect(moduleOf(w, "motor")).toMatchObject({ state: "committed", version: "2.0.0", progress: null });
      expect(w.watcher.view.gateway(w.gateway)!.online).toBe(true);
    });
  });
}

function busy(state: string | undefined): boolean {
  return state !== undefined && !["idle", "committed", "failed", "rolled-back"].includes(state);
}

/** The last byte of a COSE_Sign1 is the last byte of its signature. */
function flipSignatureByte(bytes: Uint8Array): Uint8Array {
  const decoded = decodeBundle(bytes);
  if (!decoded.ok) throw new Error(decoded.reason);
  const signed = new Uint8Array(decoded.parts.signedManifest);
  signed[signed.length - 1]! ^= 0x01;
  return encodeBundle({ signedManifest: signed, images: decoded.parts.images });
}

/** Changes one byte of the first inline image after signing. */
function tamperImage(bytes: Uint8Array): Uint8Array {
  const decoded = decodeBundle(bytes);
  if (!decoded.ok) throw new Error(decoded.reason);
  const images = decoded.parts.images.map((i) => new Uint8Array(i));
  images[0]![100]! ^= 0xff;
  return encodeBundle({ signedManifest: decoded.parts.signedManifest, images });
}
