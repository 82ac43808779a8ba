/**
 * The engine "killed" after each journal write of a run (its process frozen there: nothing more is
 * written or sent, its ports are closed), then a new engine started on the same state directory and
 * the same simulated modules. Whatever the point, every module ends on the new firmware committed or
 * on the old one, the status says which, and what the status says is what the module boots, even
 * after a power cycle (so it is confirmed, not a trial).
 */
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/gateway/config.js";
import type { UpdateEngine } from "../../src/gateway/engine.js";
import { Rig, MODULE_IDS, type ReleaseSpec } from "./harness.js";

const HEALTHY: ReleaseSpec = {
  sequence: 1,
  modules: { power: { version: "2.0.0", order: 0 }, motor: { version: "2.0.0", order: 0 }, radio: { version: "2.0.0", order: 1 } },
};
const FAILING: ReleaseSpec = {
  sequence: 1,
  modules: { power: { version: "2.0.0", order: 0 }, motor: { version: "2.0.0", order: 0 }, radio: { version: "2.0.0", order: 1, behaviour: "crash-on-boot" } },
};

/** The recovery policy, and short health probes (a failing probe costs its timeout on every run). */
function configure(recovery: "resume" | "rollback") {
  return (raw: GatewayConfigInput): void => {
    raw.recovery = recovery;
    for (const m of raw.modules) m.health = { kind: "uart-probe", bootDelayMs: 0, timeoutMs: 120, attempts: 1 };
  };
}

/** Journal writes of an uninterrupted run (the range of kill points). */
async function countWrites(spec: ReleaseSpec, recovery: "resume" | "rollback"): Promise<number> {
  const rig = new Rig({ configure: configure(recovery) });
  let writes = 0;
  try {
    const engine = await rig.engine({ journalHook: ({ count }) => void (writes = count) });
    await engine.submitBundle(rig.bundle(spec));
    await engine.idle();
  } finally {
    await rig.close();
  }
  return writes;
}

interface Outcome {
  status: Record<string, { state: string; version: string | null }>;
  running: Record<string, string | null>;
  afterPowerCycle: Record<string, string | null>;
  bundle: string | undefined;
}

/** Kills the engine after journal write `n`, restarts, waits, and reports what each module ended on. */
async function killAt(n: number, spec: ReleaseSpec, recovery: "resume" | "rollback"): Promise<Outcome & { notes: Array<string | null> }> {
  const rig = new Rig({ configure: configure(recovery) });
  try {
    let halted!: () => void;
    const killed = new Promise<void>((resolve) => (halted = resolve));
    const first = await rig.engine({
      journalHook: ({ count }) => {
        if (count !== n) return undefined;
        halted();
        return "halt";
      },
    });
    await Promise.race([first.submitBundle(rig.bundle(spec)).then(() => first.idle()), killed]);
    const second: UpdateEngine = await rig.engine();
    await second.idle();
    const statuses = rig.statuses(second);
    const status = Object.fromEntries(MODULE_IDS.map((id) => [id, { state: statuses[id]!.state, version: statuses[id]!.version }]));
    const running = Object.fromEntries(MODULE_IDS.map((id) => [id, rig.running(id).version]));
    for (const id of MODULE_IDS) rig.powerCycle(id);
    const afterPowerCycle = Object.fromEntries(MODULE_IDS.map((id) => [id, rig.running(id).version]));
    return { status, running, afterPowerCycle, bundle: second.gatewayStatus().bundle?.state, notes: MODULE_IDS.map((id) => statuses[id]!.note) };
  } finally {
    await rig.close();
  }
}

function expectConsistent(outcome: Outcome, n: number): void {
  for (const id of MODULE_IDS) {
    const { state, version } = outcome.status[id]!;
    // Never "updating": the run always ends.
    expect(["committed", "rolled-back", "idle"], `kill at write ${n}: ${id} state`).toContain(state);
    // What the status says runs is what runs, and what boots after a power cycle (confirmed).
    const expected = state === "committed" ? "2.0.0" : "1.0.0";
    expect(outcome.running[id], `kill at write ${n}: ${id} running (${JSON.stringify(outcome.status[id])})`).toBe(expected);
    expect(outcome.afterPowerCycle[id], `kill at write ${n}: ${id} after a power cycle`).toBe(expected);
    if (version !== null) expect(version, `kill at write ${n}: ${id} version`).toBe(expected);
  }
}

describe("crash safety: the engine killed after every journal write", () => {
  it("resumes a healthy bundle to committed on every module, wherever it was killed", async () => {
    const total = await countWrites(HEALTHY, "resume");
    expect(total).toBeGreaterThan(15);
    for (let n = 1; n <= total; n++) {
      const outcome = await killAt(n, HEALTHY, "resume");
      expectConsistent(outcome, n);
      for (const id of MODULE_IDS) expect(outcome.status[id], `kill at write ${n}: ${id}`).toMatchObject({ state: "committed", version: "2.0.0" });
      expect(outcome.bundle, `kill at write ${n}`).toBe("committed");
    }
  }, 120_000);

  it("rolls a healthy bundle back when configured to, leaving each module consistently on old or new firmware", async () => {
    const total = await countWrites(HEALTHY, "rollback");
    for (let n = 1; n <= total; n += 2) {
      const outcome = await killAt(n, HEALTHY, "rollback");
      expectConsistent(outcome, n);
      if (n < total) {
        // Killed mid-run: the whole bundle is undone (all-or-nothing) and the status says why.
        for (const id of MODULE_IDS) expect(outcome.running[id], `kill at write ${n}: ${id}`).toBe("1.0.0");
        expect(outcome.notes.filter((note) => note?.includes("rolled back after restart")).length, `kill at write ${n}`).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it("finishes the rollback of a failing bundle wherever it was killed", async () => {
    const total = await countWrites(FAILING, "resume");
    // Every other write (the rollback half doubles the run's length); the healthy case covers every one.
    for (let n = 1; n <= total; n += 2) {
      const outcome = await killAt(n, FAILING, "resume");
      expectConsistent(outcome, n);
      for (const id of MODULE_IDS) expect(outcome.running[id], `kill at write ${n}: ${id}`).toBe("1.0.0");
      expect(outcome.bundle, `kill at write ${n}`).toBe("failed");
    }
  }, 120_000);
});
