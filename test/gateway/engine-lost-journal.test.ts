/**
 * A journal deleted after a kill in the middle of an all-or-nothing bundle (issue 10, defect 8): the
 * natural reaction to a `state-corrupt` refusal. Before the fix the modules the run had committed
 * stayed on the new release and the others on the old one, each status saying all was well.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { MODULE_IDS, Rig } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const release = (version: string) => ({ power: { version }, motor: { version }, radio: { version } });

/** Runs bundle 1 (2.0.0) and "kills" the engine once `committed` modules are committed, then deletes the journal. */
async function killedMidBundleThenJournalDeleted(committed: number): Promise<void> {
  const gate = new HaltGate();
  const first = await rig.engine({
    haltGate: gate,
    journalHook: ({ run }) =>
      run.jobs.filter((j) => j.step === "committed").length >= committed ? "halt" : undefined,
  });
  let killed!: () => void;
  const dead = new Promise<void>((resolve) => (killed = resolve));
  gate.onHalt(killed);
  await first.submitBundle(rig.bundle({ sequence: 1, parallelism: 1, modules: release("2.0.0") }));
  await Promise.race([first.idle(), dead]);
  expect(gate.halted).toBe(true);
  rmSync(join(rig.stateDir, "journal.json"));
}

describe("journal.json lost mid-bundle", () => {
  it("puts every module of the interrupted all-or-nothing bundle back on one release, named journal-lost (defect 8)", async () => {
    rig = new Rig({ configure: (raw) => (raw.reconcile = { repair: "auto" }) });
    await killedMidBundleThenJournalDeleted(2);

    const engine = await rig.engine();
    await engine.idle();
    for (const id of MODULE_IDS) {
      rig.powerCycle(id);
      expect(rig.running(id).version, id).toBe("1.0.0");
    }
    expect(engine.gatewayStatus().bundle).toMatchObject({
      release: "release-1",
      state: "failed",
      error: { code: "journal-lost" },
    });
    for (const status of engine.moduleStatuses()) expect(status.version, status.module).toBe("1.0.0");
    // Nothing is left half done: the next bundle applies to all.
    expect(await engine.submitBundle(rig.bundle({ sequence: 2, modules: release("3.0.0") }))).toMatchObject({
      ok: true,
    });
    await engine.idle();
    for (const id of MODULE_IDS) expect(rig.running(id).version, id).toBe("3.0.0");
  }, 60_000);

  it("names each module that differs when repair is report, instead of saying all is well (defect 8)", async () => {
    rig = new Rig();
    await killedMidBundleThenJournalDeleted(2);
    const engine = await rig.engine();
    await engine.idle();
    expect(engine.gatewayStatus().bundle?.error?.code).toBe("journal-lost");
    const statuses = rig.statuses(engine);
    const differing = MODULE_IDS.filter((id) => rig.running(id).version === "2.0.0");
    expect(differing.length).toBeGreaterThan(0);
    for (const id of differing) expect(statuses[id]!.lastError?.code, id).toBe("drift");
  }, 60_000);
});
