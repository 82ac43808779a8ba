/**
 * Reconciliation with the modules (issue 10, defect 8 and "versions null until the first update"): at
 * start-up the gateway checks what each simulated module holds against its records, names every
 * difference on the module's status and events, and repairs it from the image store when told to.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/gateway/config/config.js";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { JOURNAL_FILE } from "../../src/gateway/store/journal.js";
import { buildSimFirmware } from "../../src/sim/firmware/image-format.js";
import { MODULES, MODULE_IDS, Rig, type ReleaseSpec } from "./harness.js";

const V2: ReleaseSpec = {
  sequence: 1,
  modules: {
    power: { version: "2.0.0" },
    motor: { version: "2.0.0" },
    radio: { version: "2.0.0" },
  },
};

function reconcile(repair: "auto" | "report", method: "crc" | "readback" | "probe" = "crc") {
  return (raw: GatewayConfigInput): void => {
    raw.reconcile = { atStart: true, repair, method };
  };
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Installs V2 to completion with one engine, then stops it. */
async function installV2(r: Rig): Promise<void> {
  const engine = await r.engine();
  const outcome = await engine.submitBundle(r.bundle(V2));
  expect(outcome.ok).toBe(true);
  await engine.idle();
  await engine.stop();
}

describe("reconciliation at start-up", () => {
  it("knows every module's version from the first start of a fresh gateway with factory images", async () => {
    rig = new Rig();
    const engine = await rig.engine();
    for (const id of MODULE_IDS) {
      const status = rig.statuses(engine)[id]!;
      expect(status.version, id).toBe("1.0.0");
      expect(status.lastError, id).toBeNull();
    }
    const reconciled = rig.events.filter((e) => e.type === "reconcile");
    expect(reconciled.map((e) => e.module).sort()).toEqual([...MODULE_IDS].sort());
    // The modules run their application again afterwards.
    for (const id of MODULE_IDS) expect(rig.running(id).version, id).toBe("1.0.0");
    // And a restart knows it from state, without asking the application again.
    await engine.stop();
    const again = await rig.engine();
    for (const id of MODULE_IDS) expect(rig.statuses(again)[id]!.version, id).toBe("1.0.0");
  });

  it("finds every module consistent after an update, without touching its status", async () => {
    rig = new Rig({ configure: reconcile("auto") });
    await installV2(rig);
    const before = rig.events.length;
    const engine = await rig.engine();
    const findings = await engine.reconcile();
    expect(findings?.map((f) => f.kind)).toEqual(["consistent", "consistent", "consistent"]);
    for (const id of MODULE_IDS) {
      expect(rig.statuses(engine)[id]).toMatchObject({
        version: "2.0.0",
        lastError: null,
        state: "committed",
      });
      expect(rig.running(id).version, id).toBe("2.0.0");
    }
    expect(rig.events.slice(before).filter((e) => e.type === "reconcile" && e.error !== null)).toEqual([]);
  });

  // Defect 8: a kill mid-update and `rm journal.json` left a single-slot module half-written, status "idle".
  it("repairs a single-slot module left half-written by a killed update whose journal was deleted", async () => {
    rig = new Rig({ configure: reconcile("auto") });
    await installV2(rig);
    const gate = new HaltGate();
    const first = await rig.engine({ haltGate: gate });
    first.on("module-status", (s) => {
      if (
        s.module === "power" &&
        s.state === "writing" &&
        (s.progress?.done ?? 0) > 0.1 * (s.progress?.total ?? Infinity)
      )
        gate.halt();
    });
    void first.submitBundle(
      rig.bundle({ sequence: 2, modules: { power: { version: "3.0.0", size: 24_000 } } }),
    );
    await waitFor(() => gate.halted);
    rmSync(join(rig.stateDir, JOURNAL_FILE));
    // Half-written: neither release is whole in the slot.
    const slot = MODULES.power.layout.slot;
    const v2 = rig.image("power", "2.0.0");
    const v3 = rig.image("power", "3.0.0", "healthy", 24_000);
    expect(rig.flash("power", slot.address, v3.length)).not.toEqual(v3);
    expect(rig.flash("power", slot.address, v2.length)).not.toEqual(v2);

    const second = await rig.engine();
    const status = rig.statuses(second).power!;
    expect(status.lastError?.code).toBe("half-written");
    expect(status.note).toMatch(/repaired to 2\.0\.0/);
    expect(status.version).toBe("2.0.0");
    expect(rig.flash("power", slot.address, v2.length)).toEqual(v2);
    expect(rig.running("power").version).toBe("2.0.0");
    const event = rig.events.find((e) => e.type === "reconcile" && e.module === "power" && e.error !== null);
    expect(event?.type === "reconcile" ? event.error?.code : null).toBe("half-written");
  });

  it("reports a half-written single slot without repairing it when the policy is report", async () => {
    rig = new Rig({ configure: reconcile("report") });
    await installV2(rig);
    const slot = MODULES.power.layout.slot;
    // An erase that was never followed by the write.
    rig.sims.get("power")!.memory.load(slot.address, new Uint8Array(4096).fill(0xff));
    const engine = await rig.engine();
    const status = rig.statuses(engine).power!;
    expect(status.lastError).toMatchObject({ code: "half-written", context: { repaired: false } });
    expect(rig.versionAt("power", slot.address)).toBeNull();
  });

  it.each(["crc", "readback"] as const)(
    "reports drift on modules bench-flashed with other content (%s)",
    async (method) => {
      rig = new Rig({ configure: reconcile("report", method) });
      await installV2(rig);
      const bench = buildSimFirmware({ version: "9.9.9-bench", size: 5000 });
      rig.sims.get("power")!.memory.load(MODULES.power.layout.slot.address, bench);
      // The motor (A/B, Get Checksum) runs 2.0.0 from slot B after V2: overwrite what it boots.
      rig.sims.get("motor")!.memory.load(MODULES.motor.layout.slotB.address, bench);
      const engine = await rig.engine();
      const statuses = rig.statuses(engine);
      expect(statuses.power!.lastError?.code).toBe("drift");
      expect(statuses.motor!.lastError?.code).toBe("drift");
      expect(statuses.radio!.lastError).toBeNull();
      // Reported, not repaired: the power module still runs the bench firmware.
      expect(rig.versionAt("power", MODULES.power.layout.slot.address)).toBe("9.9.9-bench");
    },
  );

  it("puts the recorded firmware back on a drifted module when the policy is auto", async () => {
    rig = new Rig({ configure: reconcile("auto") });
    await installV2(rig);
    const bench = buildSimFirmware({ version: "9.9.9-bench", size: 5000 });
    rig.sims.get("power")!.memory.load(MODULES.power.layout.slot.address, bench);
    rig.sims.get("motor")!.memory.load(MODULES.motor.layout.slotB.address, bench);
    const engine = await rig.engine();
    for (const id of ["power", "motor"] as const) {
      expect(rig.statuses(engine)[id]!.lastError?.code, id).toBe("drift");
      expect(rig.running(id).version, id).toBe("2.0.0");
      rig.powerCycle(id);
      expect(rig.running(id).version, `${id} after a power cycle`).toBe("2.0.0");
    }
  });

  it("reports drift found by the application's own answer with method probe", async () => {
    rig = new Rig({ configure: reconcile("report", "probe") });
    await installV2(rig);
    rig.sims
      .get("power")!
      .memory.load(MODULES.power.layout.slot.address, buildSimFirmware({ version: "7.7.7", size: 5000 }));
    rig.powerCycle("power");
    const engine = await rig.engine();
    expect(rig.statuses(engine).power!.lastError).toMatchObject({
      code: "drift",
      context: { found: "7.7.7" },
    });
    expect(rig.statuses(engine).motor!.lastError).toBeNull();
  });
});

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
