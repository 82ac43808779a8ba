/**
 * Campaigns end to end on a real Mosquitto (SUBFLASH_TEST_MQTT_URL, or one started here; the
 * embedded aedes otherwise): a simulated fleet of full gateway engines, the campaign controller as
 * an MQTT client beside them, and nothing shared but the broker.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CampaignController } from "../../src/mqtt/operator/campaign/controller.js";
import type { MqttConnection } from "../../src/mqtt/operator/index.js";
import { startSimFleet } from "../../src/sim/world/sim-fleet.js";
import type { SimFleet, SimGatewayFailure } from "../../src/sim/world/sim-fleet.js";
import { createSigningKey } from "../../src/signing/keys.js";
import { mosquittoUnavailable, startAedes, startMosquitto, uniquePrefix } from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";
import { campaignFiles, operator, releaseBundle } from "./helpers/campaign.js";

const useMosquitto = mosquittoUnavailable() === null;

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

  it("rolls a release out to every gateway in two waves and reports each one committed", async () => {
    const prefix = uniquePrefix("campaign-ok");
    const f = await fleet(6, prefix);
    const files = await campaignFiles(f.key, releaseBundle(f.key, 10), {
      id: "ok",
      targets: { groups: ["fleet"] },
      waves: [{ size: 1 }, { size: "100%" }],
    });
    cleanups.push(() => rmSync(files.dir, { recursive: true, force: true }));
    const connection = await connect();
    const controller = new CampaignController({
      connection,
      spec: files.spec,
      bundle: releaseBundle(f.key, 10),
      key: f.key,
      stateDir: files.stateDir,
      prefix,
    });
    void files;
    const result = await controller.run();
    expect(result.state).toBe("completed");
    expect(result.waves.map((w) => [w.targets, w.committed])).toEqual([
      [1, 1],
      [5, 5],
    ]);
    for (const gw of f.gateways.values()) expect(gw.modules.running("radio")).toBe("2.0.0");
  }, 60_000);
});
