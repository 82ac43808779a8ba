import type { TransitionEvent } from "../../src/gateway/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { decideBoot, decodeBootRecord } from "../../src/targets/ab/boot-record.js";
import { Rig, MODULES } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

describe("update engine, happy path", () => {
  it("updates an F103 single, a G071 A/B and an F407 A/B module and commits all three", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    const outcome = await engine.submitBundle(
      rig.bundle({
        sequence: 1,
        modules: { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } },
      }),
      { topic: "subflash/gw-test/update" },
    );
    expect(outcome).toMatchObject({ ok: true, status: "accepted", modules: ["power", "motor", "radio"] });
    await engine.idle();

    const status = rig.statuses(engine);
    expect(status.power).toMatchObject({
      state: "committed",
      version: "2.0.0",
      activeSlot: "single",
      lastError: null,
    });
    expect(status.motor).toMatchObject({ state: "committed", version: "2.0.0", activeSlot: "b" });
    expect(status.radio).toMatchObject({ state: "committed", version: "2.0.0", activeSlot: "b" });
    expect(engine.gatewayStatus().bundle).toMatchObject({
      release: "release-1",
      sequence: 1,
      state: "committed",
      error: null,
    });

    // Every module runs the new firmware now.
    expect(rig.running("power")).toEqual({ version: "2.0.0", slot: "single" });
    expect(rig.running("motor")).toEqual({ version: "2.0.0", slot: "b" });
    expect(rig.running("radio")).toEqual({ version: "2.0.0", slot: "b" });

    // Flash: the new image in slot B, the old one untouched in slot A, a confirmed record for B.
    const motor = MODULES.motor.layout;
    const image = rig.image("motor", "2.0.0");
    expect(rig.flash("motor", motor.slotB.address, image.length)).toEqual(image);
    expect(rig.versionAt("motor", motor.slotA.address)).toBe("1.0.0");
    const copies = motor.bootRecord.copies.map((a) => decodeBootRecord(rig.flash("motor", a, 64))) as [
      never,
      never,
    ];
    const decision = decideBoot(copies);
    expect(decision.record).toMatchObject({ active: "b", trial: false, fallback: "a" });
    const power = rig.image("power", "2.0.0");
    expect(rig.flash("power", MODULES.power.layout.slot.address, power.length)).toEqual(power);

    // Transitions were reported for each module, ending in committed.
    const transitions = rig.events
      .filter((e): e is TransitionEvent => e.type === "transition" && e.module === "radio")
      .map((e) => e.to);
    expect(transitions).toContain("writing");
    expect(transitions).toContain("health-check");
    expect(transitions.at(-1)).toBe("committed");
  });

  it("leaves the bootloader by a reset (gpio and serial-lines exit) when configured to", async () => {
    rig = new Rig({
      configure: (raw) => {
        for (const m of raw.modules) if (m.id !== "motor") m.exit = "reset";
      },
    });
    const engine = await rig.engine();
    await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: { power: { version: "2.0.0" }, radio: { version: "2.0.0" } } }),
    );
    await engine.idle();
    expect(rig.statuses(engine).power).toMatchObject({ state: "committed", version: "2.0.0" });
    expect(rig.statuses(engine).radio).toMatchObject({
      state: "committed",
      version: "2.0.0",
      activeSlot: "b",
    });
    // No Go command reached either module: they were reset into their firmware.
    expect(rig.sims.get("power")!.stats.commands["0x21"]).toBeUndefined();
    expect(rig.sims.get("radio")!.stats.commands["0x21"]).toBeUndefined();
    expect(rig.running("radio")).toEqual({ version: "2.0.0", slot: "b" });
  });
});

describe("after an update", () => {
  it("leaves BOOT0 low, so a watchdog reset of the module boots its new firmware", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: { power: { version: "2.0.0" }, radio: { version: "2.0.0" } } }),
    );
    await engine.idle();
    for (const id of ["power", "radio"] as const) {
      const sim = rig.sims.get(id)!;
      expect(sim.pins.boot0).toBe(false);
      sim.reset();
      expect(rig.running(id).version).toBe("2.0.0");
    }
  });
});
