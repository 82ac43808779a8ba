import { afterEach, describe, expect, it } from "vitest";
import { buildSimFirmware } from "../../src/sim/firmware/image-format.js";
import { Rig, MODULES } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const allTwo = { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } };

describe("signed commands", () => {
  it("rolls every module back to its previous firmware on a rollback command", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }));
    await engine.idle();

    const outcome = await engine.submitCommand(rig.command("rollback"));
    expect(outcome).toMatchObject({
      ok: true,
      status: "ok",
      command: "rollback",
      modules: ["power", "motor", "radio"],
    });
    await engine.idle();

    const status = rig.statuses(engine);
    // The gateway never knew the factory version; the health probe told it.
    expect(status.power).toMatchObject({ state: "rolled-back", version: "1.0.0" });
    expect(status.motor).toMatchObject({ state: "rolled-back", activeSlot: "a" });
    expect(status.radio).toMatchObject({ state: "rolled-back", activeSlot: "a" });
    // The spare slots still held the factory firmware: checked on the device, not rewritten (the
    // radio's factory image has no known length or CRC, so it could not be checked).
    expect(status.motor!.verification).toBe("readback");
    expect(status.radio!.verification).toBe("none");
    for (const id of ["power", "motor", "radio"] as const) expect(rig.running(id).version).toBe("1.0.0");
    // The factory image of the single module came back from the image store, byte for byte.
    const factory = buildSimFirmware({ version: "1.0.0", size: 3000 });
    expect(rig.flash("power", MODULES.power.layout.slot.address, factory.length)).toEqual(factory);
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "committed", release: "release-1" });
    // The summary line tells what the last run did, agreeing with the modules below it.
    expect(engine.gatewayStatus().lastRun).toMatchObject({ kind: "rollback", summary: "rollback committed" });

    // Rolling back again goes forward to what was rolled back from: the module is on the newer
    // release again, so it is "committed", not "rolled-back" (issue 11: rolled-back only when older).
    await engine.submitCommand(rig.command("rollback", { module: "motor" }));
    await engine.idle();
    expect(rig.statuses(engine).motor).toMatchObject({
      state: "committed",
      version: "2.0.0",
      activeSlot: "b",
    });
    expect(rig.running("motor")).toEqual({ version: "2.0.0", slot: "b" });
  });

  it("rolls back, right after a failed all-or-nothing bundle, to the firmware confirmed before the current one", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }));
    await engine.idle();
    // Release 2 writes the spare A/B slots (which hold the factory 1.0.0) before the radio fails.
    const failing = {
      power: { version: "3.0.0", order: 0 },
      motor: { version: "3.0.0", order: 1 },
      radio: { version: "3.0.0", order: 2, behaviour: "crash-on-boot" as const },
    };
    await engine.submitBundle(rig.bundle({ sequence: 2, modules: failing }));
    await engine.idle();
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "failed", release: "release-2" });
    expect(rig.versionAt("motor", MODULES.motor.layout.slotA.address)).toBe("3.0.0");
    expect(rig.versionAt("radio", MODULES.radio.layout.slotA.address)).toBe("3.0.0");

    const outcome = await engine.submitCommand(rig.command("rollback"));
    expect(outcome).toMatchObject({ ok: true, modules: ["power", "motor", "radio"] });
    await engine.idle();
    const status = rig.statuses(engine);
    for (const id of ["power", "motor", "radio"] as const) {
      expect(status[id], id).toMatchObject({ state: "rolled-back", version: "1.0.0", lastError: null });
      rig.powerCycle(id);
      expect(rig.running(id).version, `${id} after a power cycle`).toBe("1.0.0");
    }
    expect(rig.running("motor").slot).toBe("a");
    expect(rig.running("radio").slot).toBe("a");
    // The factory images came back from the image store, byte for byte (kept before release 2 overwrote them).
    const factory = buildSimFirmware({ version: "1.0.0", size: 3000 });
    expect(rig.flash("motor", MODULES.motor.layout.slotA.address, factory.length)).toEqual(factory);
    expect(rig.flash("radio", MODULES.radio.layout.slotA.address, factory.length)).toEqual(factory);

    // And a rollback from there goes forward to 2.0.0 again, which the other slot kept.
    await engine.submitCommand(rig.command("rollback"));
    await engine.idle();
    for (const id of ["power", "motor", "radio"] as const) expect(rig.running(id).version, id).toBe("2.0.0");
  });

  it("refuses a rollback below the security floor", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: { motor: { version: "2.0.0", securityVersion: 1 } } }),
    );
    await engine.idle();
    await engine.submitBundle(
      rig.bundle({ sequence: 2, modules: { motor: { version: "3.0.0", securityVersion: 2 } } }),
    );
    await engine.idle();
    expect(rig.running("motor")).toEqual({ version: "3.0.0", slot: "a" });

    const outcome = await engine.submitCommand(rig.command("rollback", { module: "motor" }));
    expect(outcome).toMatchObject({
      ok: false,
      status: "error",
      code: "below-security-floor",
      modules: ["motor"],
    });
    await engine.idle();
    expect(rig.running("motor")).toEqual({ version: "3.0.0", slot: "a" });
  });

  it("refuses a rollback of a module without a previous firmware, and of an unknown module", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    expect(await engine.submitCommand(rig.command("rollback", { module: "motor" }))).toMatchObject({
      ok: false,
      code: "no-previous-image",
    });
    expect(await engine.submitCommand(rig.command("rollback", { module: "no-such" }))).toMatchObject({
      ok: false,
      code: "unknown-module",
    });
  });

  it("cancels a running bundle at the next safe point and rolls back what it changed", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    // One module at a time: power (order 0), then motor, then radio.
    const bundle = rig.bundle({
      sequence: 1,
      parallelism: 1,
      modules: {
        power: { version: "2.0.0", order: 0 },
        motor: { version: "2.0.0", order: 1 },
        radio: { version: "2.0.0", order: 2 },
      },
    });
    let cancelled: Promise<unknown> | undefined;
    engine.on("module-status", (s) => {
      if (s.module === "motor" && s.state === "writing" && !cancelled)
        cancelled = engine.submitCommand(rig.command("cancel", { bundle: { sequence: 1 } }));
    });
    await engine.submitBundle(bundle);
    await engine.idle();
    expect(await cancelled).toMatchObject({ ok: true, command: "cancel" });

    const status = rig.statuses(engine);
    expect(status.power).toMatchObject({ state: "rolled-back" });
    expect(status.motor).toMatchObject({ state: "rolled-back", activeSlot: "a" });
    expect(status.radio).toMatchObject({ state: "idle", note: "not started: the bundle was rolled back" });
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "cancelled" });
    for (const id of ["power", "motor", "radio"] as const) expect(rig.running(id).version).toBe("1.0.0");
    expect(await engine.submitCommand(rig.command("cancel"))).toMatchObject({
      ok: false,
      code: "nothing-to-cancel",
    });
  });

  it("retries a failed bundle on a retry command", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    // The radio is unpowered: the first run cannot reach its bootloader and the bundle fails.
    rig.sims.get("radio")!.powerOff();
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }));
    await engine.idle();
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "failed" });
    expect(rig.statuses(engine).radio).toMatchObject({ state: "failed" });
    expect(rig.statuses(engine).radio!.lastError?.code).toBe("bootloader-unreachable");
    for (const id of ["power", "motor"] as const) expect(rig.running(id).version).toBe("1.0.0");

    rig.sims.get("radio")!.powerOn();
    const outcome = await engine.submitCommand(rig.command("retry", { bundle: { sequence: 1 } }));
    expect(outcome).toMatchObject({ ok: true, command: "retry" });
    await engine.idle();
    for (const id of ["power", "motor", "radio"] as const) {
      expect(rig.statuses(engine)[id]).toMatchObject({ state: "committed", version: "2.0.0" });
      expect(rig.running(id).version).toBe("2.0.0");
    }
    expect(await engine.submitCommand(rig.command("retry"))).toMatchObject({
      ok: false,
      code: "nothing-to-retry",
    });
  }, 20_000);

  it("refuses a replayed bundle and a replayed command with named codes", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    const bundle = rig.bundle({ sequence: 5, modules: { motor: { version: "2.0.0" } } });
    expect(await engine.submitBundle(bundle)).toMatchObject({ ok: true });
    await engine.idle();
    const replay = await engine.submitBundle(bundle);
    expect(replay).toMatchObject({ ok: false, status: "rejected", code: "replayed" });
    expect(engine.gatewayStatus().lastRejected?.error.code).toBe("replayed");
    expect(rig.events.some((e) => e.type === "rejected" && e.error?.code === "replayed")).toBe(true);

    const command = rig.command("rollback", { module: "motor" });
    expect(await engine.submitCommand(command)).toMatchObject({ ok: true });
    await engine.idle();
    expect(await engine.submitCommand(command)).toMatchObject({ ok: false, code: "replayed" });
    // The replay changed nothing: the motor still runs the rolled-back firmware.
    expect(rig.running("motor")).toEqual({ version: "1.0.0", slot: "a" });
  });

  it("refuses a bundle while another one runs", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    const first = await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: { motor: { version: "2.0.0" } } }),
    );
    const second = await engine.submitBundle(
      rig.bundle({ sequence: 2, modules: { radio: { version: "2.0.0" } } }),
    );
    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: false, code: "busy" });
    // The running bundle stays the one the gateway status shows.
    expect(engine.gatewayStatus().bundle).toMatchObject({ release: "release-1", state: "running" });
    expect(engine.gatewayStatus().lastRejected?.error.code).toBe("busy");
    await engine.idle();
  });
});
