/**
 * Durable intake (issue 10, defect 4): a bundle is acknowledged to the broker only once it is
 * journalled. The daemon SIGKILLs itself after verifying a bundle and before journalling it
 * (SUBFLASH_TEST_KILL_AT=bundle-verified); the broker still holds the unacknowledged QoS 1 message
 * for the gateway's persistent session, redelivers it to the restarted daemon, and the bundle is
 * applied. Before the fix the PUBACK went out on receipt and the bundle was lost, silently.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import type { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { connectOperator, FleetWatcher, publishBundle } from "../../src/mqtt/operator/operator.js";
import {
  mosquittoRequired,
  mosquittoUnavailable,
  startAedes,
  startMosquitto,
  uniquePrefix,
} from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";
import { createDaemonRig } from "./helpers/daemon.js";
import type { DaemonProcess, DaemonRig } from "./helpers/daemon.js";

const MODULES = ["power", "motor", "radio"] as const;
const useMosquitto = mosquittoUnavailable() === null || mosquittoRequired;

describe(`durable intake (${useMosquitto ? "Mosquitto" : "embedded aedes broker"})`, () => {
  let broker: TestBroker;
  let rig: DaemonRig | null = null;
  let operator: MqttConnection | null = null;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    broker = useMosquitto ? await startMosquitto() : await startAedes();
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

  it("applies a bundle after a restart when the daemon was killed between receipt and journalling", async () => {
    rig = createDaemonRig({
      brokerUrl: broker.url,
      prefix: uniquePrefix("intake"),
      baud: 230_400,
      timing: false,
    });
    const r = rig;
    operator = await connectOperator({ broker: broker.url });
    const watcher = new FleetWatcher(operator, { prefix: r.prefix, gateway: r.gateway });
    await watcher.start();
    const gw = (): ReturnType<typeof watcher.view.gateway> => watcher.view.gateway(r.gateway);
    const diagnose = (): string => r.logs.slice(-20).join("\n");

    daemon = r.start({ SUBFLASH_TEST_KILL_AT: "bundle-verified" });
    await watcher.until(
      () => gw()?.online === true && (gw()?.modules.size ?? 0) === 3,
      30_000,
      "the daemon to come up",
    );
    const bundle = fleetBundle(
      {
        sequence: 1,
        release: "durable-1",
        gateways: [r.gateway],
        modules: { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } },
        imageSize: 4 * 1024,
      },
      r.key,
    );
    // Not retained: only the broker's session for the gateway can bring it back.
    await publishBundle(operator, { gateway: r.gateway }, bundle, r.prefix);
    expect(await daemon.exited, diagnose()).toBe("SIGKILL");
    expect(r.logs.some((line) => line.includes('"bundle received"'))).toBe(true);
    await watcher.until(() => gw()?.online === false, 15_000, "the last will");

    daemon = r.start();
    await watcher
      .until(
        () =>
          gw()?.status?.bundle?.release === "durable-1" &&
          gw()?.status?.bundle?.state === "committed" &&
          MODULES.every((id) => gw()?.modules.get(id)?.state === "committed"),
        90_000,
        "the redelivered bundle to be applied",
      )
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${diagnose()}`);
      });
    await daemon.kill("SIGTERM");
    daemon = null;
    for (const id of MODULES)
      expect(r.flashTruth(id), id).toMatchObject({ version: "2.0.0", confirmed: true });
    watcher.stop();
  }, 180_000);
});
