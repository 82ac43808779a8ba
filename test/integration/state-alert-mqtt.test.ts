/**
 * Issue 10, defect 3, over MQTT: a gateway whose floors.json went missing between runs publishes a
 * retained `stateAlert` (`state-disagrees`) and refuses bundles until `subflash acknowledge` (a
 * signed acknowledge-state command) lifts it; the status then says bundles are accepted again.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpdateEngine } from "../../src/gateway/engine.js";
import { startGatewayService, type GatewayService } from "../../src/mqtt/gateway/index.js";
import { writeKeyFiles } from "../../src/signing/key-files.js";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import { createWorld, type World } from "../../src/sim/world/world.js";
import { preferredBroker, uniquePrefix, type TestBroker } from "./helpers/brokers.js";

const chosen = preferredBroker();

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/subflash.mjs", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`state alert over MQTT (${chosen.label})`, () => {
  let broker: TestBroker;
  let world: World;
  let service: GatewayService | undefined;
  let engine: UpdateEngine | undefined;

  beforeAll(async () => {
    broker = await chosen.start();
    world = await createWorld({
      broker: broker.url,
      prefix: uniquePrefix("state-alert"),
      gateway: "gw-alert",
      timing: false,
      factorySize: 4096,
    });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await engine?.stop();
    await world?.close();
    await broker?.close();
  });

  it("publishes state-disagrees as a retained stateAlert and lifts it on `subflash acknowledge`", async () => {
    const bundle = (sequence: number, version: string) =>
      fleetBundle(
        {
          sequence,
          release: `r-${version}`,
          gateways: [world.gateway],
          modules: { power: { version } },
          imageSize: 4096,
        },
        world.key,
      );
    expect(await world.engine.submitBundle(bundle(1, "2.0.0"))).toMatchObject({ ok: true });
    await world.engine.idle();
    // The daemon stops; floors.json is lost meanwhile; it starts again.
    await world.service.stop();
    await world.engine.stop();
    rmSync(join(world.config.stateDir, "floors.json"));
    engine = new UpdateEngine({ config: world.config, targets: world.modules.targets });
    service = await startGatewayService({
      engine,
      gateway: world.config.gateway,
      mqtt: { url: world.brokerUrl, prefix: world.prefix, clientId: "subflash-gw-alert-2" },
      backoff: { initialMs: 200, maxMs: 2000 },
    });
    const status = () => world.watcher.view.gateway(world.gateway)?.status;
    await world.watcher.until(
      () => status()?.stateAlert?.code === "state-disagrees",
      10_000,
      "the state alert",
    );
    expect(await engine.submitBundle(bundle(2, "3.0.0"))).toMatchObject({
      ok: false,
      code: "state-disagrees",
    });

    const keyFile = (await writeKeyFiles(join(world.dir, "ops"), world.key)).secretPath;
    const run = await cli([
      "acknowledge",
      "--broker",
      world.brokerUrl,
      "--prefix",
      world.prefix,
      "--gateway",
      world.gateway,
      "--key",
      keyFile,
      "--timeout",
      "30",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/acknowledge-state accepted by gw-alert/);
    await world.watcher.until(() => status()?.stateAlert === null, 10_000, "the alert lifted");
    expect(await engine.submitBundle(bundle(2, "3.0.0"))).toMatchObject({ ok: true });
    await engine.idle();
  }, 90_000);
});
