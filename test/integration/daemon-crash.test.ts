/**
 * The daemon PROCESS killed (SIGKILL) at many points of an update, then started again: every run must
 * end with each module either committed on the new firmware or back on the old one — all of them the
 * same way, since the bundles are all-or-nothing — with the retained status saying which, and the
 * module's flash (read from its file) agreeing with the status.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import type { FleetRelease } from "../../src/sim/world/fleet.js";
import type { WireModuleStatus } from "../../src/mqtt/contract/contract.js";
import type { MqttConnection } from "../../src/mqtt/connection/connection.js";
import type { FleetView } from "../../src/mqtt/operator/fleet-view.js";
import { connectOperator, FleetWatcher, publishBundle } from "../../src/mqtt/operator/operator.js";
import { preferredBroker, uniquePrefix } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";
import { createDaemonRig } from "./helpers/daemon.js";
import type { DaemonProcess, DaemonRig } from "./helpers/daemon.js";

const MODULES = ["power", "motor", "radio"] as const;
const ACTIVE = new Set([
  "queued",
  "downloading",
  "entering-bootloader",
  "erasing",
  "writing",
  "verifying",
  "activating",
  "health-check",
  "rolling-back",
]);

// Mosquitto when there is one (required in CI), else the embedded broker: the daemon is a separate process either way.
const brokerChoice = preferredBroker();

type Trigger = (view: FleetView, gateway: string) => boolean;
const state = (view: FleetView, gateway: string, id: string): WireModuleStatus | undefined =>
  view.gateway(gateway)?.modules.get(id);
const at =
  (id: string, s: string): Trigger =>
  (v, g) =>
    state(v, g, id)?.state === s;

const good = { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } };
const bad = {
  power: { version: "2.0.0", order: 0 },
  motor: { version: "2.0.0", order: 1 },
  radio: { version: "2.0.0", order: 2, behaviour: "crash-on-boot" as const },
};

const CASES: Array<{
  name: string;
  modules: FleetRelease["modules"];
  trigger: Trigger;
  delayMs?: number;
  crashAgain?: Trigger;
}> = [
  {
    name: "as the single-slot module enters its bootloader",
    modules: good,
    trigger: at("power", "entering-bootloader"),
  },
  { name: "while the single-slot module is being erased", modules: good, trigger: at("power", "erasing") },
  // Progress reaches MQTT at most twice a second, so "halfway" is a delay after writing starts (6 KiB take ~0.3 s at 230400 baud).
  {
    name: "halfway through writing the single-slot module",
    modules: good,
    trigger: at("power", "writing"),
    delayMs: 150,
  },
  { name: "while an A/B module verifies its new slot", modules: good, trigger: at("motor", "verifying") },
  {
    name: "as an A/B module activates its trial boot record",
    modules: good,
    trigger: at("radio", "activating"),
  },
  { name: "during a health check", modules: good, trigger: at("radio", "health-check") },
  {
    name: "after one module committed while the others still run",
    modules: good,
    trigger: (v, g) =>
      MODULES.some((id) => state(v, g, id)?.state === "committed") &&
      MODULES.some((id) => ACTIVE.has(state(v, g, id)?.state ?? "")),
  },
  { name: "while a failed bundle is being rolled back", modules: bad, trigger: at("motor", "rolling-back") },
  {
    name: "twice: during the update and again during the recovery",
    modules: good,
    trigger: at("motor", "writing"),
    crashAgain: (v, g) =>
      MODULES.some((id) => ACTIVE.has(state(v, g, id)?.state ?? "") && state(v, g, id)?.note !== null),
  },
];

describe(`daemon killed mid-update (${brokerChoice.label})`, () => {
  let broker: TestBroker;
  let rig: DaemonRig | null = null;
  let operator: MqttConnection | null = null;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    broker = await brokerChoice.start();
  });
  afterAll(async () => {
    await broker?.close();
  });
  afterEach(async () => {
    await daemon?.kill("SIGKILL");
    await operator?.stop();
    rig?.close();
    daemon = null;
    operator = null;
    rig = null;
  });

  it.each(CASES)(
    "ends all-new or all-old, status and flash agreeing, when killed $name",
    async ({ modules, trigger, delayMs, crashAgain }) => {
      rig = createDaemonRig({
        brokerUrl: broker.url,
        prefix: uniquePrefix("crash"),
        baud: 230_400,
        timing: true,
      });
      const r = rig;
      operator = await connectOperator({ broker: broker.url });
      const watcher = new FleetWatcher(operator, { prefix: r.prefix, gateway: r.gateway });
      await watcher.start();
      const gw = (): ReturnType<FleetView["gateway"]> => watcher.view.gateway(r.gateway);
      const diagnose = (): string => r.logs.slice(-15).join("\n");

      daemon = r.start();
      await watcher
        .until(
          () => gw()?.online === true && (gw()?.modules.size ?? 0) === 3,
          30_000,
          "the daemon to come up",
        )
        .catch((e: Error) => {
          throw new Error(`${e.message}\n${diagnose()}`);
        });
      const bundle = fleetBundle(
        { sequence: 1, release: "crash-1", gateways: [r.gateway], modules, imageSize: 6 * 1024 },
        r.key,
      );
      await publishBundle(operator, { gateway: r.gateway }, bundle, r.prefix);

      await watcher.until((v) => trigger(v, r.gateway), 60_000, "the kill point");
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      expect(await daemon.kill("SIGKILL")).toBe("SIGKILL");
      // The broker tells the world at once: the last will.
      await watcher.until(() => gw()?.online === false, 15_000, "the last will (online = false)");

      daemon = r.start();
      if (crashAgain) {
        await watcher.until(
          (v) => gw()?.online === true && crashAgain(v, r.gateway),
          60_000,
          "the second kill point",
        );
        expect(await daemon.kill("SIGKILL")).toBe("SIGKILL");
        await watcher.until(() => gw()?.online === false, 15_000, "the last will again");
        daemon = r.start();
      }

      await watcher
        .until(
          () => {
            const bundleState = gw()?.status?.bundle?.state;
            return (
              gw()?.online === true &&
              !!bundleState &&
              bundleState !== "running" &&
              MODULES.every((id) => !ACTIVE.has(gw()?.modules.get(id)?.state ?? "queued"))
            );
          },
          90_000,
          "the restarted daemon to settle",
        )
        .catch((e: Error) => {
          throw new Error(`${e.message}\n${diagnose()}`);
        });

      const bundleState = gw()!.status!.bundle!.state;
      const statuses = MODULES.map((id) => gw()!.modules.get(id)!);
      const allNew = statuses.every((s) => s.state === "committed" && s.version === "2.0.0");
      const allOld = statuses.every(
        (s) => ["rolled-back", "idle"].includes(s.state) && s.version === "1.0.0",
      );
      expect(
        allNew || allOld,
        `mixed outcome: ${statuses.map((s) => `${s.module} ${s.state} ${s.version}`).join(", ")}`,
      ).toBe(true);
      expect(bundleState).toBe(allNew ? "committed" : bundleState === "cancelled" ? "cancelled" : "failed");
      if (modules === bad) expect(allOld).toBe(true);

      // What each module would boot, read from its flash, is what its status says — and no trial is left pending.
      await daemon.kill("SIGTERM").then((code) => expect(code).toBe(0));
      daemon = null;
      for (const s of statuses) {
        const truth = r.flashTruth(s.module);
        expect(truth, s.module).toMatchObject({ version: s.version, confirmed: true });
        if (s.activeSlot !== "single") expect(truth.slot).toBe(s.activeSlot);
      }
      await watcher.until(() => gw()?.online === false, 10_000, "online = false after SIGTERM");
      watcher.stop();
    },
    240_000,
  );
});
