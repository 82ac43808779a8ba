/**
 * The engine "killed" after each journal write of a run (its process frozen there: nothing more is
 * written or sent, its ports are closed), then a new engine started on the same state directory and
 * the same simulated modules. Whatever the point, every module ends on the new firmware committed or
 * on the old one, the status says which, and what the status says is what the module boots, even
 * after a power cycle (so it is confirmed, not a trial).
 */
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/gateway/config/config.js";
import type { UpdateEngine } from "../../src/gateway/engine.js";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { Rig, MODULE_IDS, type ReleaseSpec } from "./harness.js";

const HEALTHY: ReleaseSpec = {
  sequence: 1,
  modules: {
    power: { version: "2.0.0", order: 0 },
    motor: { version: "2.0.0", order: 0 },
    radio: { version: "2.0.0", order: 1 },
  },
};
const FAILING: ReleaseSpec = {
  sequence: 1,
  modules: {
    power: { version: "2.0.0", order: 0 },
    motor: { version: "2.0.0", order: 0 },
    radio: { version: "2.0.0", order: 1, behaviour: "crash-on-boot" },
  },
};

/** The recovery policy, and short health probes (a failing probe costs its timeout on every run). */
function configure(recovery: "resume" | "rollback") {
  return (raw: GatewayConfigInput): void => {
    raw.recovery = recovery;
    for (const m of raw.modules)
      m.health = { kind: "uart-probe", bootDelayMs: 0, timeoutMs: 120, attempts: 1 };
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
async function killAt(
  n: number,
  spec: ReleaseSpec,
  recovery: "resume" | "rollback",
): Promise<Outcome & { notes: Array<string | null> }> {
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
    const status = Object.fromEntries(
      MODULE_IDS.map((id) => [id, { state: statuses[id]!.state, version: statuses[id]!.version }]),
    );
    const running = Object.fromEntries(MODULE_IDS.map((id) => [id, rig.running(id).version]));
    for (const id of MODULE_IDS) rig.powerCycle(id);
    const afterPowerCycle = Object.fromEntries(MODULE_IDS.map((id) => [id, rig.running(id).version]));
    return {
      status,
      running,
      afterPowerCycle,
      bundle: second.gatewayStatus().bundle?.state,
      notes: MODULE_IDS.map((id) => statuses[id]!.note),
    };
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
    expect(
      outcome.running[id],
      `kill at write ${n}: ${id} running (${JSON.stringify(outcome.status[id])})`,
    ).toBe(expected);
    expect(outcome.afterPowerCycle[id], `kill at write ${n}: ${id} after a power cycle`).toBe(expected);
    if (version !== null) expect(version, `kill at write ${n}: ${id} version`).toBe(expected);
  }
}

/** Release 2 after HEALTHY: its A/B modules overwrite their spare slot, which holds the factory 1.0.0. */
const SECOND_FAILING: ReleaseSpec = {
  sequence: 2,
  modules: {
    power: { version: "3.0.0", order: 0 },
    motor: { version: "3.0.0", order: 0 },
    radio: { version: "3.0.0", order: 1, behaviour: "crash-on-boot" },
  },
};

/**
 * HEALTHY to completion, then SECOND_FAILING killed where `kill` says (or not at all), restarted and
 * finished, then a remote rollback. Reports what the modules ran after the bundle and after the rollback.
 */
async function rollBackAfterKilledBundle(
  kill: { atWrite?: number; inBackupOf?: string },
  recovery: "resume" | "rollback" = "resume",
): Promise<{
  steps: string[];
  killed: boolean;
  afterBundle: Record<string, string | null>;
  rollback: { ok: boolean; code?: string };
  afterRollback: Record<
    string,
    { state: string; version: string | null; running: string | null; afterPowerCycle: string | null }
  >;
}> {
  const rig = new Rig({ configure: configure(recovery) });
  try {
    const before = await rig.engine();
    await before.submitBundle(rig.bundle(HEALTHY));
    await before.idle();
    await before.stop();
    const steps: string[] = [];
    let wasKilled = false;
    let markKilled!: () => void;
    const dead = new Promise<void>((resolve) => (markKilled = resolve));
    const killed = (): void => {
      wasKilled = true;
      markKilled();
    };
    const gate = new HaltGate();
    const first = await rig.engine({
      haltGate: gate,
      journalHook: ({ count, what }) => {
        steps.push(what);
        if (count !== kill.atWrite) return undefined;
        killed();
        return "halt";
      },
    });
    first.on("module-status", (s) => {
      if (s.module === kill.inBackupOf && s.progress?.phase === "backup" && !gate.halted) {
        gate.halt();
        killed();
      }
    });
    await Promise.race([first.submitBundle(rig.bundle(SECOND_FAILING)).then(() => first.idle()), dead]);
    const second = await rig.engine();
    await second.idle();
    const afterBundle = Object.fromEntries(MODULE_IDS.map((id) => [id, rig.running(id).version]));
    const outcome = await second.submitCommand(rig.command("rollback"));
    await second.idle();
    const statuses = rig.statuses(second);
    const afterRollback = Object.fromEntries(
      MODULE_IDS.map((id) => {
        const running = rig.running(id).version;
        rig.powerCycle(id);
        return [
          id,
          {
            state: statuses[id]!.state,
            version: statuses[id]!.version,
            running,
            afterPowerCycle: rig.running(id).version,
          },
        ];
      }),
    );
    return {
      steps,
      killed: wasKilled,
      afterBundle,
      rollback: outcome.ok ? { ok: true } : { ok: false, code: outcome.code },
      afterRollback,
    };
  } finally {
    await rig.close();
  }
}

function expectRolledBackToFactory(
  outcome: Awaited<ReturnType<typeof rollBackAfterKilledBundle>>,
  where: string,
): void {
  // The failing bundle always ends rolled back to 2.0.0; "previous" is then 1.0.0, confirmed before it.
  for (const id of MODULE_IDS)
    expect(outcome.afterBundle[id], `${where}: ${id} after the bundle`).toBe("2.0.0");
  expect(outcome.rollback, where).toEqual({ ok: true });
  for (const id of MODULE_IDS) {
    expect(outcome.afterRollback[id], `${where}: ${id}`).toEqual({
      state: "rolled-back",
      version: "1.0.0",
      running: "1.0.0",
      afterPowerCycle: "1.0.0",
    });
  }
}

describe("crash safety: the previous firmware survives a killed bundle", () => {
  it("keeps the A/B spare slot's firmware for a rollback, wherever a failing bundle that overwrote it was killed", async () => {
    const whole = await rollBackAfterKilledBundle({});
    expectRolledBackToFactory(whole, "not killed");
    // The kill points include the backup step of both A/B modules.
    expect(whole.steps.filter((what) => what.endsWith(": backup")).sort()).toEqual([
      "motor: backup",
      "radio: backup",
    ]);
    // Every write until the last spare slot was overwritten; then every third (the undo half is the
    // same as without a backup, which the tests below cover).
    const overwritten = whole.steps.indexOf("radio: writing") + 1;
    for (let n = 1; n <= whole.steps.length; n += n <= overwritten ? 1 : 3) {
      expectRolledBackToFactory(
        await rollBackAfterKilledBundle({ atWrite: n }),
        `kill at write ${n} (${whole.steps[n - 1]})`,
      );
    }
  }, 120_000);

  it.each([
    ["motor", "resume"],
    ["radio", "resume"],
    ["motor", "rollback"],
    ["radio", "rollback"],
  ] as const)(
    "keeps it when killed while reading the %s spare slot back (restart: %s)",
    async (module, recovery) => {
      const outcome = await rollBackAfterKilledBundle({ inBackupOf: module }, recovery);
      expect(outcome.killed).toBe(true);
      expectRolledBackToFactory(outcome, `killed in the backup of ${module}`);
    },
  );
});

describe("crash safety: the engine killed after every journal write", () => {
  it("resumes a healthy bundle to committed on every module, wherever it was killed", async () => {
    const total = await countWrites(HEALTHY, "resume");
    expect(total).toBeGreaterThan(15);
    for (let n = 1; n <= total; n++) {
      const outcome = await killAt(n, HEALTHY, "resume");
      expectConsistent(outcome, n);
      for (const id of MODULE_IDS)
        expect(outcome.status[id], `kill at write ${n}: ${id}`).toMatchObject({
          state: "committed",
          version: "2.0.0",
        });
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
        expect(
          outcome.notes.filter((note) => note?.includes("rolled back after restart")).length,
          `kill at write ${n}`,
        ).toBeGreaterThan(0);
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
