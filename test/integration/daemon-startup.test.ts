/**
 * Defect 1 of issue 10: a fatal start-up error used to leave the daemon hanging (online = true,
 * never exiting), with a message naming neither file nor field. Each case damages one thing in a
 * working rig, starts the daemon and expects: a non-zero exit within a few seconds, a message that
 * names the file and the field, and the retained `online` = false. Before the fix every case hung.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MqttConnection } from "../../src/mqtt/connection/connection.js";
import { connectOperator, FleetWatcher } from "../../src/mqtt/operator/operator.js";
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

const useMosquitto = mosquittoUnavailable() === null || mosquittoRequired;

/** Exit within this long counts as "fast" (the daemon's own deadline is shorter; CI machines are slow). */
const EXIT_WITHIN_MS = 15_000;

const trustPath = (r: DaemonRig): string => join(r.dir, "trust.json");
const statePath = (r: DaemonRig): string => join(r.dir, "state", "state.json");
const editTrust = (r: DaemonRig, edit: (doc: Record<string, unknown>) => void): void => {
  const doc = JSON.parse(readFileSync(trustPath(r), "utf8")) as Record<string, unknown>;
  edit(doc);
  writeFileSync(trustPath(r), JSON.stringify(doc));
};

const CASES: Array<{ name: string; damage: (r: DaemonRig) => void; mentions: RegExp[] }> = [
  {
    name: "state.json is empty",
    damage: (r) => (mkdirSync(join(r.dir, "state"), { recursive: true }), writeFileSync(statePath(r), "")),
    mentions: [/state\.json/, /empty/],
  },
  {
    name: "state.json is corrupt",
    damage: (r) => (
      mkdirSync(join(r.dir, "state"), { recursive: true }),
      writeFileSync(statePath(r), JSON.stringify({ format: 1, lastSequence: "seven", modules: {} }))
    ),
    mentions: [/state\.json/, /lastSequence/],
  },
  {
    name: "the trust store is not JSON",
    damage: (r) => writeFileSync(trustPath(r), "{ not json"),
    mentions: [/trust\.json/, /JSON/i],
  },
  {
    name: "the trust store's threshold is 0",
    damage: (r) => editTrust(r, (doc) => (doc.threshold = 0)),
    mentions: [/trust\.json/, /threshold/],
  },
  {
    name: "a trust store key id does not match its key",
    damage: (r) =>
      editTrust(r, (doc) => {
        const keys = doc.keys as Array<{ id: string }>;
        keys[0]!.id = "0123456789abcdef";
      }),
    mentions: [/trust\.json/, /keys\.0\.id/],
  },
  {
    name: "stateDir points at a file",
    damage: (r) => (
      rmSync(join(r.dir, "state"), { recursive: true, force: true }),
      writeFileSync(join(r.dir, "state"), "x")
    ),
    mentions: [/stateDir/, /state/],
  },
];

describe(`daemon start-up fails closed (${useMosquitto ? "Mosquitto" : "embedded aedes broker"})`, () => {
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

  it.each(CASES)(
    "exits non-zero quickly, names the file and field, and leaves online = false when $name",
    async ({ damage, mentions }) => {
      rig = createDaemonRig({
        brokerUrl: broker.url,
        prefix: uniquePrefix("startup"),
        baud: 230_400,
        timing: false,
      });
      const r = rig;
      operator = await connectOperator({ broker: broker.url });
      const watcher = new FleetWatcher(operator, { prefix: r.prefix, gateway: r.gateway });
      await watcher.start();
      damage(r);

      daemon = r.start();
      const exited = await Promise.race([
        daemon.exited,
        new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), EXIT_WITHIN_MS)),
      ]);
      const output = r.logs.join("\n");
      expect(exited, output).not.toBe("hung");
      expect(exited, output).not.toBe(0);
      for (const mention of mentions) expect(output).toMatch(mention);
      // It connected before the fatal error: nobody may go on seeing this gateway as up.
      await watcher.until((v) => v.gateway(r.gateway)?.online === false, 10_000, "online = false");
      watcher.stop();
    },
    60_000,
  );
});
