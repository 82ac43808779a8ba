/**
 * Anti-replay that survives state loss (issue 10, defect 3): the last sequences and the security
 * floors live in state.json AND in floors.json (optionally in `state.mirrorDir`). Deleting,
 * damaging or rolling back either copy between runs is noticed, the higher values are kept, and
 * bundles are refused with a named code and a retained `stateAlert` until an operator acknowledges.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signCommand } from "../../src/manifest/index.js";
import { createSigningKey } from "../../src/signing/index.js";
import type { UpdateEngine } from "../../src/gateway/engine.js";
import { GATEWAY, Rig } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const motor = (version: string, securityVersion = 0) => ({ motor: { version, securityVersion } });

/** Installs bundles 2 (security 1) and 5 (security 3) on the motor board, keeping a copy of each file after the first. */
async function history(options: { mirror?: boolean } = {}): Promise<{ early: string; earlyFloors: string }> {
  rig = new Rig({
    configure: options.mirror ? (raw) => void (raw.state = { mirrorDir: "mirror" }) : undefined,
  });
  const engine = await rig.engine();
  expect(await engine.submitBundle(rig.bundle({ sequence: 2, modules: motor("2.0.0", 1) }))).toMatchObject({
    ok: true,
  });
  await engine.idle();
  const early = join(rig.dir, "state-early.json");
  const earlyFloors = join(rig.dir, "floors-early.json");
  copyFileSync(join(rig.stateDir, "state.json"), early);
  copyFileSync(floorsPath(options.mirror), earlyFloors);
  expect(await engine.submitBundle(rig.bundle({ sequence: 5, modules: motor("3.0.0", 3) }))).toMatchObject({
    ok: true,
  });
  await engine.idle();
  await engine.stop();
  return { early, earlyFloors };
}

function floorsPath(mirror = false): string {
  return join(rig.dir, mirror ? "mirror" : "state", "floors.json");
}

function stored(path: string): { lastSequence: number; securityFloors: Record<string, number> } {
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  return (raw.floors ?? raw) as { lastSequence: number; securityFloors: Record<string, number> };
}

async function expectRefused(engine: UpdateEngine, code: string): Promise<void> {
  const outcome = await engine.submitBundle(rig.bundle({ sequence: 9, modules: motor("4.0.0", 3) }));
  expect(outcome).toMatchObject({ ok: false, code });
  expect(engine.gatewayStatus().stateAlert?.code).toBe(code);
  expect(engine.gatewayStatus().lastRejected?.error.code).toBe(code);
  await engine.idle();
  expect(rig.running("motor").version).toBe("3.0.0");
}

describe("floors kept in two places", () => {
  it("writes floors.json beside state.json on a new gateway and raises no alert", async () => {
    await history();
    expect(stored(floorsPath())).toMatchObject({ lastSequence: 5, securityFloors: { "motor-board": 3 } });
    const engine = await rig.engine();
    expect(engine.gatewayStatus().stateAlert).toBeNull();
    expect(await engine.submitBundle(rig.bundle({ sequence: 6, modules: motor("3.1.0", 3) }))).toMatchObject({
      ok: true,
    });
  });

  it("refuses bundles with state-disagrees when floors.json was deleted, and keeps refusing after a restart", async () => {
    await history();
    rmSync(floorsPath());
    const engine = await rig.engine();
    await expectRefused(engine, "state-disagrees");
    expect(engine.gatewayStatus().stateAlert?.message).toMatch(/floors\.json is missing/);
    await engine.stop();
    // The alert is stored in both copies: a restart alone does not lift it.
    const again = await rig.engine();
    await expectRefused(again, "state-disagrees");
  });

  it("refuses bundles with state-disagrees when floors.json is damaged (checksum)", async () => {
    await history();
    const text = readFileSync(floorsPath(), "utf8").replace('"lastSequence": 5', '"lastSequence": 1');
    writeFileSync(floorsPath(), text);
    const engine = await rig.engine();
    await expectRefused(engine, "state-disagrees");
    expect(engine.gatewayStatus().stateAlert?.message).toMatch(/damaged \(sha256/);
  });

  it("keeps the higher floors when state.json was rolled back, and a replayed older bundle stays refused after the acknowledgement", async () => {
    const { early } = await history();
    copyFileSync(early, join(rig.stateDir, "state.json"));
    expect(stored(join(rig.stateDir, "state.json")).lastSequence).toBe(2);
    const engine = await rig.engine();
    await expectRefused(engine, "state-disagrees");
    expect(engine.gatewayStatus().stateAlert?.message).toMatch(/lastSequence: state\.json 2, floors\.json 5/);
    // Both copies now carry the higher values: the floors never went down.
    expect(stored(join(rig.stateDir, "state.json")).lastSequence).toBe(5);
    expect(stored(floorsPath()).securityFloors["motor-board"]).toBe(3);

    expect(await engine.submitCommand(rig.command("acknowledge-state"))).toMatchObject({
      ok: true,
      command: "acknowledge-state",
    });
    expect(engine.gatewayStatus().stateAlert).toBeNull();
    // A bundle the rolled-back state.json would have let through (sequence 3 > 2) is a replay.
    const replayed = await engine.submitBundle(rig.bundle({ sequence: 3, modules: motor("2.5.0", 3) }));
    expect(replayed).toMatchObject({ ok: false, code: "replayed" });
    // A newer sequence under the security floor 3 is a downgrade.
    const downgrade = await engine.submitBundle(rig.bundle({ sequence: 8, modules: motor("3.5.0", 2) }));
    expect(downgrade).toMatchObject({ ok: false, code: "downgrade" });
    expect(await engine.submitBundle(rig.bundle({ sequence: 9, modules: motor("4.0.0", 3) }))).toMatchObject({
      ok: true,
    });
  });

  it("keeps the higher floors when floors.json was rolled back", async () => {
    const { earlyFloors } = await history();
    copyFileSync(earlyFloors, floorsPath());
    const engine = await rig.engine();
    await expectRefused(engine, "state-disagrees");
    expect(stored(floorsPath())).toMatchObject({ lastSequence: 5, securityFloors: { "motor-board": 3 } });
    const replayed = await engine.submitBundle(rig.bundle({ sequence: 4, modules: motor("2.5.0", 3) }));
    expect(replayed).toMatchObject({ ok: false });
  });

  it("takes the floors from floors.json in state.mirrorDir when the whole state directory is lost", async () => {
    await history({ mirror: true });
    expect(existsSync(join(rig.stateDir, "floors.json"))).toBe(false);
    rmSync(rig.stateDir, { recursive: true, force: true });
    const engine = await rig.engine();
    await expectRefused(engine, "state-lost");
    expect(engine.gatewayStatus().lastSequence).toBe(5);
    expect(await engine.submitCommand(rig.command("acknowledge-state"))).toMatchObject({ ok: true });
    const replayed = await engine.submitBundle(rig.bundle({ sequence: 4, modules: motor("2.5.0", 3) }));
    expect(replayed).toMatchObject({ ok: false, code: "replayed" });
  });

  it("accepts a state.json one write behind floors.json (a kill between the two writes) without an alert", async () => {
    const { early } = await history();
    // floors.json is written first: model the kill by rolling state.json back by exactly one generation.
    const state = JSON.parse(readFileSync(join(rig.stateDir, "state.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const before = JSON.parse(readFileSync(early, "utf8")) as Record<string, unknown>;
    writeFileSync(
      join(rig.stateDir, "state.json"),
      JSON.stringify({
        ...state,
        lastSequence: before.lastSequence,
        floorsGeneration: (state.floorsGeneration as number) - 1,
      }),
    );
    const engine = await rig.engine();
    expect(engine.gatewayStatus().stateAlert).toBeNull();
    expect(engine.gatewayStatus().lastSequence).toBe(5);
  });

  it("migrates a state.json from before floors.json without an alert", async () => {
    await history();
    rmSync(floorsPath());
    const state = JSON.parse(readFileSync(join(rig.stateDir, "state.json"), "utf8")) as Record<
      string,
      unknown
    >;
    delete state.floorsGeneration;
    delete state.stateAlert;
    writeFileSync(join(rig.stateDir, "state.json"), JSON.stringify(state));
    const engine = await rig.engine();
    expect(engine.gatewayStatus().stateAlert).toBeNull();
    expect(stored(floorsPath()).lastSequence).toBe(5);
  });
});

describe("acknowledge-state", () => {
  it("is refused when forged (an untrusted key) or replayed, and the refusal stands", async () => {
    await history();
    rmSync(floorsPath());
    const first = await rig.engine();
    const acknowledgement = rig.command("acknowledge-state");
    expect(await first.submitCommand(acknowledgement)).toMatchObject({ ok: true });
    await first.stop();

    // The same mistake again: the old acknowledgement cannot lift the new alert.
    rmSync(floorsPath());
    const engine = await rig.engine();
    expect(await engine.submitCommand(acknowledgement)).toMatchObject({ ok: false, code: "replayed" });
    const now = Math.floor(Date.now() / 1000);
    const forged = signCommand(
      {
        formatVersion: 1,
        kind: "acknowledge-state",
        gateway: GATEWAY,
        sequence: 1_000_000,
        issuedAt: now - 10,
        expires: now + 600,
      },
      [createSigningKey({ label: "intruder" })],
    );
    expect(await engine.submitCommand(forged)).toMatchObject({ ok: false });
    expect(await engine.submitCommand(new Uint8Array([0xa0]))).toMatchObject({ ok: false });
    await expectRefused(engine, "state-disagrees");
    expect(await engine.submitCommand(rig.command("acknowledge-state"))).toMatchObject({ ok: true });
    expect(await engine.submitBundle(rig.bundle({ sequence: 9, modules: motor("4.0.0", 3) }))).toMatchObject({
      ok: true,
    });
  });

  it("is refused with nothing-to-acknowledge when no alert stands", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    expect(await engine.submitCommand(rig.command("acknowledge-state"))).toMatchObject({
      ok: false,
      code: "nothing-to-acknowledge",
    });
  });

  it("is lifted by daemon --accept-state-loss for state-disagrees too", async () => {
    await history();
    rmSync(floorsPath());
    const engine = await rig.engine({ acceptStateLoss: true });
    expect(engine.gatewayStatus().stateAlert).toBeNull();
    expect(stored(floorsPath()).lastSequence).toBe(5);
  });
});
