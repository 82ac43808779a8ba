/**
 * Defect 7 (issue 10): `subflash rollback --wait` exited 0 and printed `rolled-back 2.0.0` for
 * modules that were put back on 3.0.0 because the previous image was missing from the store. The CLI
 * now waits for the run's own outcome and exits 1 with it whenever the run failed or was undone.
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import { createWorld } from "../../src/sim/world/world.js";
import type { World } from "../../src/sim/world/world.js";
import { writeKeyFiles } from "../../src/signing/key-files.js";
import {
  mosquittoRequired,
  mosquittoUnavailable,
  startAedes,
  startMosquitto,
  uniquePrefix,
} from "./helpers/brokers.js";
import type { TestBroker } from "./helpers/brokers.js";

function cli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/subflash.mjs", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`subflash ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const useMosquitto = mosquittoUnavailable() === null || mosquittoRequired;

describe(`operator CLI outcomes (${useMosquitto ? "Mosquitto" : "embedded aedes broker"})`, () => {
  let broker: TestBroker;
  let world: World;
  let keyFile: string;
  let common: string[];

  beforeAll(async () => {
    broker = useMosquitto ? await startMosquitto() : await startAedes();
    world = await createWorld({
      broker: broker.url,
      prefix: uniquePrefix("cli-outcome"),
      gateway: "gw-out",
      timing: false,
      factorySize: 4096,
    });
    keyFile = (await writeKeyFiles(join(world.dir, "ops"), world.key)).secretPath;
    common = ["--broker", broker.url, "--prefix", world.prefix, "--gateway", "gw-out"];
    for (const [sequence, version] of [
      [1, "2.0.0"],
      [2, "3.0.0"],
    ] as const) {
      const outcome = await world.engine.submitBundle(
        fleetBundle(
          {
            sequence,
            release: `r-${version}`,
            gateways: [world.gateway],
            modules: { power: { version }, motor: { version } },
            imageSize: 4096,
          },
          world.key,
        ),
      );
      expect(outcome.ok).toBe(true);
      await world.engine.idle();
    }
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await broker?.close();
  });

  it("exits 1 and does not print rolled-back when the rollback fails for a missing previous image", async () => {
    // The previous (2.0.0) images disappear from the store; the running (3.0.0) ones stay.
    const stateFile = JSON.parse(readFileSync(join(world.config.stateDir, "state.json"), "utf8")) as {
      modules: Record<string, { confirmed: { digest: string; version: string } }>;
    };
    expect(stateFile.modules.power!.confirmed.version).toBe("3.0.0");
    const running = new Set(["power", "motor"].map((id) => stateFile.modules[id]!.confirmed.digest));
    const store = join(world.config.stateDir, "images", "sha256");
    for (const name of readdirSync(store)) if (!running.has(name)) rmSync(join(store, name));

    const run = await cli([
      "rollback",
      ...common,
      "--key",
      keyFile,
      "--module",
      "power",
      "--wait",
      "--timeout",
      "60",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).not.toMatch(/rolled-back/);
    expect(run.stdout).toMatch(/rollback did not complete: run failed: image-unavailable/);
    expect(run.stdout).toMatch(/power: \S+ 3\.0\.0/);
  }, 90_000);

  it("exits 1 with the outcome when a retry is refused", async () => {
    const run = await cli(["retry", ...common, "--key", keyFile, "--wait", "--timeout", "30"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/retry refused by gw-out: nothing-to-retry/);
  }, 60_000);

  it("sends a signed acknowledge-state with `subflash acknowledge` and exits 1 when the gateway has nothing to acknowledge", async () => {
    const run = await cli(["acknowledge", ...common, "--key", keyFile, "--timeout", "30"]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/acknowledge-state refused by gw-out: nothing-to-acknowledge/);
  }, 60_000);
});
