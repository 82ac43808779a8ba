/**
 * No update loops (issue 10): a bundle whose attempt failed is tried again after a doubling back-off,
 * and after `retry.attempts` failures it is quarantined (retained bundle state and error code
 * `quarantined`, a `bundle` event) until a newer sequence or a signed retry. The book is in
 * state.json, so a restart keeps both the quarantine and a pending back-off.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { UpdateEngine } from "../../src/gateway/engine.js";
import type { GatewayEvent } from "../../src/gateway/status/types.js";
import { Rig } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const broken = (version: string) => ({ motor: { version, behaviour: "wrong-version" as const } });
const healthy = (version: string) => ({ motor: { version } });

function quarantineRig(retry: { attempts: number; backoffMs: number; maxBackoffMs: number }): Rig {
  return new Rig({ configure: (raw) => void (raw.retry = retry) });
}

type BundleEvent = Extract<GatewayEvent, { type: "bundle" }>;
const bundleEvents = (): BundleEvent[] => rig.events.filter((e): e is BundleEvent => e.type === "bundle");

/** Resolves once an event matching `pick` has been emitted (the run goes on in the background). */
async function eventually(pick: (events: BundleEvent[]) => boolean): Promise<void> {
  while (!pick(bundleEvents())) await new Promise((resolve) => setTimeout(resolve, 20));
}

function book(): Record<string, unknown> | null {
  const state = JSON.parse(readFileSync(join(rig.stateDir, "state.json"), "utf8")) as {
    attempts?: Record<string, unknown> | null;
  };
  return state.attempts ?? null;
}

async function quarantined(engine: UpdateEngine): Promise<void> {
  await eventually((events) => events.some((e) => e.state === "quarantined"));
  await engine.idle();
}

describe("failed attempts back off and end in quarantine", () => {
  it("tries a bundle whose health check always fails 3 times, each after its back-off, then quarantines it", async () => {
    rig = quarantineRig({ attempts: 3, backoffMs: 40, maxBackoffMs: 1000 });
    const engine = await rig.engine();
    expect(await engine.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }))).toMatchObject({
      ok: true,
    });
    await quarantined(engine);

    const events = bundleEvents();
    const failed = events.filter((e) => e.state === "failed");
    const started = events.filter((e) => e.state === "running");
    expect(failed).toHaveLength(3);
    expect(started).toHaveLength(3);
    expect(failed[0]!.note).toMatch(/^attempt 1 of 3 failed; next attempt at /);
    expect(failed[1]!.note).toMatch(/^attempt 2 of 3 failed; next attempt at /);
    // Each automatic attempt starts no earlier than the back-off its failure announced.
    for (const i of [0, 1]) {
      const due = failed[i]!.note!.replace(/^.*next attempt at /, "");
      expect(Date.parse(started[i + 1]!.at)).toBeGreaterThanOrEqual(Date.parse(due));
    }
    const quarantine = events.find((e) => e.state === "quarantined")!;
    expect(quarantine.error).toMatchObject({
      code: "quarantined",
      context: { failures: 3, modules: { motor: 3 } },
    });
    expect(quarantine.error!.message).toMatch(
      /failed 3 of 3 attempts \(motor ×3, last: health-check-failed\)/,
    );
    expect(engine.gatewayStatus().bundle).toMatchObject({
      sequence: 1,
      state: "quarantined",
      error: { code: "quarantined" },
    });
    // The module was put back each time.
    expect(rig.running("motor").version).toBe("1.0.0");
  });

  it("keeps a quarantine across a restart and starts no further attempt", async () => {
    rig = quarantineRig({ attempts: 2, backoffMs: 20, maxBackoffMs: 1000 });
    const first = await rig.engine();
    await first.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }));
    await quarantined(first);
    await first.stop();
    const runsBefore = bundleEvents().filter((e) => e.state === "running").length;

    const engine = await rig.engine();
    expect(engine.gatewayStatus().bundle).toMatchObject({
      state: "quarantined",
      error: { code: "quarantined" },
    });
    expect(book()).toMatchObject({ sequence: 1, failures: 2, nextAttemptAt: null });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await engine.idle();
    expect(bundleEvents().filter((e) => e.state === "running")).toHaveLength(runsBefore);
  });

  it("keeps a pending back-off across a restart and makes the attempt when it is due", async () => {
    rig = quarantineRig({ attempts: 3, backoffMs: 60_000, maxBackoffMs: 600_000 });
    const first = await rig.engine();
    await first.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }));
    await first.idle();
    expect(book()).toMatchObject({ failures: 1, quarantined: null });
    expect(typeof book()!.nextAttemptAt).toBe("string");
    await first.stop();

    // Two minutes later (past the 60 s back-off), the restarted gateway makes attempt 2.
    const later = () => Date.now() + 120_000;
    const engine = await rig.engine({ now: later });
    await eventually((events) => events.filter((e) => e.state === "failed").length === 2);
    await engine.idle();
    expect(book()).toMatchObject({ failures: 2, modules: { motor: 2 } });
  });

  it("lifts a quarantine with a signed retry, which starts a fresh count", async () => {
    rig = quarantineRig({ attempts: 2, backoffMs: 20, maxBackoffMs: 1000 });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }));
    await quarantined(engine);

    expect(await engine.submitCommand(rig.command("retry"))).toMatchObject({ ok: true, command: "retry" });
    await eventually((events) => events.filter((e) => e.state === "quarantined").length === 2);
    await engine.idle();
    // The signed retry and one automatic attempt after it: a fresh budget of 2.
    expect(bundleEvents().filter((e) => e.state === "failed")).toHaveLength(4);
  });

  it("lifts a quarantine when a newer sequence arrives, and clears the book once it commits", async () => {
    rig = quarantineRig({ attempts: 1, backoffMs: 20, maxBackoffMs: 1000 });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }));
    await quarantined(engine);
    expect(book()).toMatchObject({ sequence: 1, quarantined: { code: "quarantined" } });

    expect(await engine.submitBundle(rig.bundle({ sequence: 2, modules: healthy("2.1.0") }))).toMatchObject({
      ok: true,
    });
    await engine.idle();
    expect(engine.gatewayStatus().bundle).toMatchObject({ sequence: 2, state: "committed", error: null });
    expect(book()).toBeNull();
    expect(rig.running("motor").version).toBe("2.1.0");
  });

  it("makes no automatic attempt after a rollback command, accepted or refused", async () => {
    rig = quarantineRig({ attempts: 3, backoffMs: 100, maxBackoffMs: 1000 });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") }));
    await engine.idle();
    expect(book()).toMatchObject({ failures: 1 });
    expect(await engine.submitCommand(rig.command("rollback"))).toMatchObject({ command: "rollback" });
    await engine.idle();
    expect(book()).toMatchObject({ failures: 1, nextAttemptAt: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await engine.idle();
    expect(bundleEvents().filter((e) => e.state === "failed")).toHaveLength(1);
  });

  it("rolls a bundle back and quarantines it when restarts keep interrupting it (a crash loop)", async () => {
    rig = quarantineRig({ attempts: 2, backoffMs: 20, maxBackoffMs: 1000 });
    /** An engine "killed" as its run reaches the motor's health check (a firmware that takes the gateway down). */
    const crashing = async (work?: (e: UpdateEngine) => Promise<unknown>) => {
      let killed!: () => void;
      const halted = new Promise<void>((resolve) => (killed = resolve));
      const engine = await rig.engine({
        journalHook: ({ what }) => {
          if (what !== "motor: health-check") return undefined;
          killed();
          return "halt";
        },
      });
      await Promise.race([(work ? work(engine) : Promise.resolve()).then(() => engine.idle()), halted]);
      return engine;
    };
    await crashing((e) => e.submitBundle(rig.bundle({ sequence: 1, modules: broken("2.0.0") })));
    await crashing(); // restart 1: resumed, killed again
    expect(book()).toMatchObject({ sequence: 1, interruptions: 1, quarantined: null });

    const engine = await rig.engine(); // restart 2: not resumed again
    await engine.idle();
    expect(book()).toMatchObject({ interruptions: 2, quarantined: { code: "quarantined" } });
    expect(engine.gatewayStatus().bundle).toMatchObject({
      state: "quarantined",
      error: { code: "quarantined" },
    });
    expect(engine.gatewayStatus().bundle!.error!.message).toMatch(/interrupted by 2 restarts in a row/);
    expect(rig.running("motor").version).toBe("1.0.0");
  });
});
