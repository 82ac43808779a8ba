import type { TransitionEvent } from "../../src/gateway/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { buildSimFirmware } from "../../src/sim/firmware/image-format.js";
import { Rig, MODULES } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

/** Order 0: power, 1: motor, 2: radio, so the two first are committed when radio fails. */
function staged(radio: { version: string; behaviour?: "crash-on-boot" | "wrong-version" | "silent" }) {
  return {
    power: { version: "2.0.0", order: 0 },
    motor: { version: "2.0.0", order: 1 },
    radio: { ...radio, order: 2 },
  };
}

describe("all-or-nothing rollback", () => {
  it("rolls the failed module and the committed ones back, in reverse order, and fails the bundle with the first cause", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: staged({ version: "2.0.0", behaviour: "crash-on-boot" }) }),
    );
    await engine.idle();

    const status = rig.statuses(engine);
    for (const id of ["power", "motor", "radio"] as const) {
      expect(status[id]).toMatchObject({ state: "rolled-back", version: "1.0.0" });
      expect(rig.running(id).version).toBe("1.0.0");
    }
    expect(status.radio!.lastError?.code).toBe("health-check-failed");
    expect(status.motor).toMatchObject({ activeSlot: "a" });
    const bundle = engine.gatewayStatus().bundle!;
    expect(bundle.state).toBe("failed");
    expect(bundle.error?.code).toBe("health-check-failed");
    expect(bundle.error?.message).toContain("radio");

    // Reverse commit order: motor (committed second) is rolled back before power (committed first).
    const rollbacks = rig.events
      .filter((e): e is TransitionEvent => e.type === "transition" && e.to === "rolling-back")
      .map((e) => e.module);
    const unique = rollbacks.filter((m, i) => rollbacks.indexOf(m) === i);
    expect(unique).toEqual(["radio", "motor", "power"]);

    // The crashing image stays in slot B of the radio, but the module boots A, even after a power cycle.
    rig.powerCycle("radio");
    expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
    rig.powerCycle("power");
    expect(rig.running("power").version).toBe("1.0.0");
    // The single-slot module got its factory image back from the image store, byte for byte.
    const factory = buildSimFirmware({ version: "1.0.0", size: 3000 });
    expect(rig.flash("power", MODULES.power.layout.slot.address, factory.length)).toEqual(factory);
  });

  it.each(["wrong-version", "silent"] as const)(
    "treats %s firmware as a failed health check",
    async (behaviour) => {
      rig = new Rig();
      const engine = await rig.engine();
      await engine.submitBundle(
        rig.bundle({ sequence: 1, modules: staged({ version: "2.0.0", behaviour }) }),
      );
      await engine.idle();
      const status = rig.statuses(engine);
      expect(status.radio).toMatchObject({ state: "rolled-back", version: "1.0.0" });
      expect(status.radio!.lastError?.code).toBe("health-check-failed");
      expect(rig.running("radio")).toEqual({ version: "1.0.0", slot: "a" });
      expect(rig.running("motor").version).toBe("1.0.0");
    },
  );

  it("with an independent bundle rolls back only the module that failed", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    await engine.submitBundle(
      rig.bundle({
        sequence: 1,
        atomicity: "independent",
        modules: staged({ version: "2.0.0", behaviour: "crash-on-boot" }),
      }),
    );
    await engine.idle();
    const status = rig.statuses(engine);
    expect(status.power).toMatchObject({ state: "committed", version: "2.0.0" });
    expect(status.motor).toMatchObject({ state: "committed", version: "2.0.0" });
    expect(status.radio).toMatchObject({ state: "rolled-back", version: "1.0.0" });
    expect(engine.gatewayStatus().bundle?.state).toBe("failed");
    expect(rig.running("motor")).toEqual({ version: "2.0.0", slot: "b" });
  });
});
