/**
 * A real multi-broker topology: two Mosquitto processes on free loopback ports, the regional one
 * bridged to the central one (`connection` / `address` / `topic <prefix>/# both 1`). The gateways
 * talk only to the regional broker; the operator and the campaign only to the central one.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CampaignController } from "../../src/mqtt/operator/campaign/controller.js";
import { FleetWatcher } from "../../src/mqtt/operator/operator.js";
import { startSimFleet } from "../../src/sim/world/sim-fleet.js";
import { createSigningKey } from "../../src/signing/keys.js";
import { freePort, mosquittoBinary, mosquittoRequired, uniquePrefix } from "./helpers/brokers.js";
import { campaignFiles, operator, releaseBundle } from "./helpers/campaign.js";

const binary = mosquittoBinary();
const skip = binary === null && !mosquittoRequired;

describe.skipIf(skip)("two Mosquitto brokers, bridged", () => {
  const dir = mkdtempSync(join(tmpdir(), "subflash-bridge-"));
  const prefix = uniquePrefix("bridge");
  const children: ChildProcess[] = [];
  let central = "";
  let regional = "";

  async function mosquitto(name: string, extra: string[]): Promise<string> {
    const port = await freePort();
    const conf = join(dir, `${name}.conf`);
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", ...extra, ""].join("\n"));
    const child = spawn(binary!, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return `mqtt://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    central = await mosquitto("central", []);
    const centralPort = new URL(central).port;
    regional = await mosquitto("regional", [
      "connection central",
      `address 127.0.0.1:${centralPort}`,
      `topic ${prefix}/# both 1`,
      "cleansession true",
      "bridge_protocol_version mqttv311",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
  });
  afterAll(() => {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("carries inventory, bundles, status and a campaign between a regional and a central broker", async () => {
    const key = createSigningKey({ label: "bridge test key" });
    const fleet = await startSimFleet({ gateways: 5, broker: regional, prefix, key });
    const connection = await operator(central);
    try {
      const watcher = new FleetWatcher(connection, { prefix, inventory: true });
      await watcher.start();
      await watcher.until(
        (view) => view.gateways().filter((g) => g.inventory !== null).length === 5,
        20_000,
        "five inventories through the bridge",
      );
      expect(watcher.view.gateway("gw-001")!.inventory!.modules.map((m) => m.type)).toContain("radio-board");

      const files = await campaignFiles(key, releaseBundle(key, 50), {
        id: "bridged",
        targets: { groups: ["fleet"] },
        waves: [{ size: 1 }, { size: "100%" }],
      });
      const result = await new CampaignController({
        connection,
        spec: files.spec,
        bundle: new Uint8Array(readFileSync(files.bundlePath)),
        key,
        stateDir: files.stateDir,
        prefix,
        settleMs: 300,
      }).run();
      expect(result.state).toBe("completed");
      expect(result.waves.reduce((n, w) => n + w.committed, 0)).toBe(5);
      await watcher.until(
        (view) => view.gateways().every((g) => g.status?.bundle?.state === "committed"),
        10_000,
        "committed status through the bridge",
      );
      watcher.stop();
      rmSync(files.dir, { recursive: true, force: true });
    } finally {
      await connection.stop();
      await fleet.stop();
    }
  }, 90_000);
});
