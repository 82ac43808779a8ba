/**
 * Faults below the engine: a module losing power in the middle of a write, a serial link that drops
 * and corrupts bytes, a module that refuses every write, and the daemon killed in the middle of a
 * write (not at a journal boundary).
 */
import { afterEach, describe, expect, it } from "vitest";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { Rig, MODULES, type ModuleId } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const ALL = { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } };

/** Restores power `ms` after a power cut, as a brown-out would. */
function restorePowerAfter(id: ModuleId, ms: number): void {
  const sim = rig.sims.get(id)!;
  sim.on("state", (state) => {
    if (state === "off" && !sim.powered) setTimeout(() => sim.powerOn(), ms);
  });
}

describe("faults during an update", () => {
  it("retries a single-slot module that lost power mid-write and commits it", async () => {
    rig = new Rig();
    // Past the backup read-back (~2.3 kB of commands) and the erase, well into the writes.
    rig.sims.get("power")!.injectFault({ kind: "power-cut", atByte: 4000 });
    restorePowerAfter("power", 20);
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: ALL }));
    await engine.idle();
    expect(rig.sims.get("power")!.faults[0]!.fired).toBe(true);
    expect(rig.statuses(engine).power).toMatchObject({ state: "committed", version: "2.0.0" });
    expect(rig.running("power").version).toBe("2.0.0");
    const image = rig.image("power", "2.0.0");
    expect(rig.flash("power", MODULES.power.layout.slot.address, image.length)).toEqual(image);
  }, 20_000);

  it("reports a module that stays without power as failed with a clear error, and the bundle as failed", async () => {
    rig = new Rig();
    rig.sims.get("radio")!.injectFault({ kind: "power-cut", atByte: 3000 });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: ALL }));
    await engine.idle();
    const radio = rig.statuses(engine).radio!;
    expect(radio.state).toBe("failed");
    expect(radio.lastError?.code).toBe("rollback-failed");
    expect(radio.lastError?.message).toMatch(/radio/);
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "failed" });
    expect(engine.gatewayStatus().bundle?.error?.code).toBe("bootloader-unreachable");
    // The others were rolled back; the radio's old slot was never touched: with power back it boots it.
    expect(rig.running("motor").version).toBe("1.0.0");
    expect(rig.running("power").version).toBe("1.0.0");
    rig.powerCycle("radio");
    expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
  }, 30_000);

  it("completes over a link that drops and corrupts bytes in both directions", async () => {
    rig = new Rig();
    const motor = rig.sims.get("motor")!;
    for (const atByte of [600, 1200, 1900])
      motor.injectFault({ kind: "corrupt", direction: "rx", atByte, mask: 0x10 });
    for (const atByte of [900, 2500]) motor.injectFault({ kind: "drop", direction: "rx", atByte });
    for (const atByte of [40, 90]) motor.injectFault({ kind: "drop", direction: "tx", atByte });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: ALL }));
    await engine.idle();
    expect(motor.faults.every((f) => f.fired)).toBe(true);
    expect(rig.statuses(engine).motor).toMatchObject({ state: "committed", version: "2.0.0" });
    const image = rig.image("motor", "2.0.0");
    expect(rig.flash("motor", MODULES.motor.layout.slotB.address, image.length)).toEqual(image);
    expect(rig.running("motor")).toEqual({ version: "2.0.0", slot: "b" });
  }, 30_000);

  it("fails cleanly when a module refuses every write: old firmware running, status says why", async () => {
    rig = new Rig();
    const radio = rig.sims.get("radio")!;
    for (let nth = 1; nth <= 40; nth++) radio.injectFault({ kind: "nack-write", nth });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, atomicity: "independent", modules: ALL }));
    await engine.idle();
    const status = rig.statuses(engine).radio!;
    expect(status.state).toBe("rolled-back");
    expect(status.lastError?.code).toBe("flash-failed");
    expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
    expect(rig.statuses(engine).motor).toMatchObject({ state: "committed" });
  }, 30_000);

  it.each(["resume", "rollback"] as const)(
    "recovers a daemon killed in the middle of a single-slot write (%s)",
    async (recovery) => {
      rig = new Rig({ configure: (raw) => (raw.recovery = recovery) });
      const gate = new HaltGate();
      const first = await rig.engine({ haltGate: gate });
      let killed!: () => void;
      const dead = new Promise<void>((resolve) => (killed = resolve));
      first.on("module-status", (s) => {
        if (
          s.module === "power" &&
          s.state === "writing" &&
          // Over 40 % of the write itself (`percent` is the whole module's bar, backup included).
          (s.progress?.done ?? 0) > 0.4 * (s.progress?.total ?? Infinity) &&
          !gate.halted
        ) {
          gate.halt();
          killed();
        }
      });
      await Promise.race([
        first.submitBundle(rig.bundle({ sequence: 1, modules: ALL })).then(() => first.idle()),
        dead,
      ]);
      // The slot is half written: the module has no complete image right now.
      const image = rig.image("power", "2.0.0");
      expect(rig.versionAt("power", MODULES.power.layout.slot.address)).toBe("2.0.0");
      expect(rig.flash("power", MODULES.power.layout.slot.address, image.length)).not.toEqual(image);
      const second = await rig.engine();
      await second.idle();
      const expected = recovery === "resume" ? "2.0.0" : "1.0.0";
      const power = rig.statuses(second).power!;
      expect(power.version).toBe(expected);
      expect(power.note).toContain(
        recovery === "resume" ? "resumed after restart" : "rolled back after restart",
      );
      rig.powerCycle("power");
      expect(rig.running("power").version).toBe(expected);
      for (const id of ["motor", "radio"] as const) expect(rig.running(id).version).toBe(expected);
    },
    30_000,
  );

  it("fails a phase that overruns its watchdog with phase-timeout, and leaves the module running", async () => {
    rig = new Rig({
      configure: (raw) => {
        // Entering through DTR/RTS alone takes longer than 1 ms.
        const radio = raw.modules.find((m) => m.id === "radio")!;
        radio.timeouts = { ...radio.timeouts, enterMs: 1 };
      },
    });
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, atomicity: "independent", modules: ALL }));
    await engine.idle();
    const radio = rig.statuses(engine).radio!;
    expect(radio.state).toBe("failed");
    expect(radio.lastError).toMatchObject({
      code: "phase-timeout",
      context: { module: "radio", phase: "preparing", timeoutMs: 1 },
    });
    expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
    expect(rig.statuses(engine).motor).toMatchObject({ state: "committed" });
  });

  it("leaves a readout-protected module untouched and running, and says why", async () => {
    rig = new Rig();
    rig.sims.get("radio")!.setProtection({ rdp: 1 });
    const before = rig.flash("radio", 0x08000000, 0x60000);
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: ALL }));
    await engine.idle();
    const radio = rig.statuses(engine).radio!;
    expect(radio.state).toBe("failed");
    expect(radio.lastError?.code).toBe("readout-protected");
    expect(radio.lastError?.message).toMatch(/module radio: .*RDP level 1.*nothing was written/);
    expect(rig.flash("radio", 0x08000000, 0x60000)).toEqual(before);
    // It was put back into its application (a reset: Go is refused under RDP level 1).
    expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
    expect(engine.gatewayStatus().bundle).toMatchObject({
      state: "failed",
      error: { code: "readout-protected" },
    });
  });
});
