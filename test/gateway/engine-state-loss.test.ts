/**
 * Anti-replay across a lost state.json (issue 10, defect 3). Before the fix a deleted state file
 * reset the last sequence to 0 without a word, and an older signed release installed over a newer
 * one although the journal still recorded the newer run.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Rig } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const release = (version: string) => ({
  power: { version },
  motor: { version },
  radio: { version },
});

describe("state.json lost", () => {
  it("refuses bundles with state-lost when state.json is gone but the journal has history (defect 3)", async () => {
    rig = new Rig();
    const first = await rig.engine();
    await first.submitBundle(rig.bundle({ sequence: 1, modules: release("2.0.0") }));
    await first.idle();
    await first.submitBundle(rig.bundle({ sequence: 5, modules: release("3.0.0") }));
    await first.idle();
    await first.stop();
    rmSync(join(rig.stateDir, "state.json"));

    const engine = await rig.engine();
    const older = await engine.submitBundle(rig.bundle({ sequence: 1, modules: release("2.0.0") }));
    expect(older).toMatchObject({ ok: false, code: "state-lost" });
    expect(engine.gatewayStatus().lastRejected?.error.code).toBe("state-lost");
    await engine.idle();
    for (const id of ["power", "motor", "radio"] as const) expect(rig.running(id).version).toBe("3.0.0");
  });

  it("takes the sequence floor from the journal once the operator accepts the loss (defect 3)", async () => {
    rig = new Rig();
    const first = await rig.engine();
    await first.submitBundle(rig.bundle({ sequence: 4, modules: release("2.0.0") }));
    await first.idle();
    await first.stop();
    rmSync(join(rig.stateDir, "state.json"));

    const engine = await rig.engine({ acceptStateLoss: true });
    const replayed = await engine.submitBundle(rig.bundle({ sequence: 3, modules: release("1.5.0") }));
    expect(replayed).toMatchObject({ ok: false, code: "replayed" });
    const newer = await engine.submitBundle(rig.bundle({ sequence: 6, modules: release("3.0.0") }));
    expect(newer).toMatchObject({ ok: true });
  });
});
