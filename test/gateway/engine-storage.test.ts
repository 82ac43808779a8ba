/**
 * Storage faults during a run (issue 10, defect 2), on a real tiny tmpfs as the state directory:
 * - full (ENOSPC) mid-run: the space reserve is freed, the run stops before its next module step and
 *   undoes what it applied; the retained status says `storage-unavailable`; once space returns the
 *   reserve is written again and the next bundle applies;
 * - read-only (EROFS) mid-run: nothing can be journalled, so no module is touched after the fault,
 *   the status says so, and once the file system is writable again the gateway undoes the run by
 *   itself, without a restart.
 * Before the fix the run stopped with the error in the local log only, one module on the new
 * release, the others on the old one, and statuses frozen mid-step.
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GatewayEvent } from "../../src/gateway/status/types.js";
import { Rig, MODULES, MODULE_IDS, type ModuleId } from "./harness.js";
import { skipTmpfs, Tmpfs, tmpfsUnavailable } from "./tmpfs.js";

const RESERVE = 1024 * 1024;
const allTwo = { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } };
const allThree = { power: { version: "3.0.0" }, motor: { version: "3.0.0" }, radio: { version: "3.0.0" } };

let rig: Rig;
const tmpfs = new Tmpfs();
afterEach(async () => {
  await rig?.close().catch(() => {});
  tmpfs.unmountAll();
});

/** Every byte of a module's slots and boot records, to prove nothing was written. */
function flashOf(id: ModuleId): Uint8Array[] {
  const layout = MODULES[id].layout;
  if (layout.kind === "single") return [rig.flash(id, layout.slot.address, layout.slot.size)];
  return [
    rig.flash(id, layout.slotA.address, layout.slotA.size),
    rig.flash(id, layout.slotB.address, layout.slotB.size),
    ...layout.bootRecord.copies.map((c) => rig.flash(id, c, 64)),
  ];
}

/** The module runs `version`, and (single slot) its slot holds that release's image byte for byte. */
function expectOn(id: ModuleId, version: string): void {
  expect(rig.running(id).version, id).toBe(version);
  if (id === "power") {
    const image = rig.image("power", version);
    expect(rig.flash("power", MODULES.power.layout.slot.address, image.length)).toEqual(image);
  }
}

function nextEvent(match: (e: GatewayEvent) => boolean): Promise<GatewayEvent> {
  return vi.waitFor(
    () => {
      const event = rig.events.find(match);
      if (!event) throw new Error("not yet");
      return event;
    },
    { timeout: 20_000, interval: 20 },
  );
}

describe.skipIf(skipTmpfs)("storage faults during a run (tmpfs)", () => {
  it("rolls back every module when the state disk fills up mid-run, reports storage-unavailable, and applies the next bundle once space returns", async () => {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    rig = new Rig();
    const dir = tmpfs.mount(rig.stateDir, 2048);
    let filler: string | null = null;
    let pad: string | null = null;
    let fills = 0;
    const engine = await rig.engine({
      storageCheckMs: 50,
      journalHook: ({ run }) => {
        // Full as soon as one module is committed: the next journal write gets ENOSPC. Topped up at
        // every write until the gateway notices (it frees the reserve), since any file the gateway
        // replaces meanwhile frees a page, and one free page lets atomic journal writes go on forever.
        const reserved = existsSync(join(dir, "reserve.bin"));
        const first = run.sequence === 1 && run.state === "running";
        if (first && reserved && run.jobs.some((j) => j.step === "committed"))
          filler = tmpfs.fill(dir, `filler-${++fills}`);
        // The run freed the reserve for its undo. Take back a part of it that the undo does not need
        // (its journal writes are a few KiB), so that the disk stays full after the run although the
        // run's end removes files (images pruned: 3 KiB each): "full" must not depend on how much
        // the end of a run happens to free, or the reserve could fit again before the refusal below.
        if (run.sequence === 1 && filler !== null && pad === null && !reserved) {
          pad = join(dir, "pad");
          writeFileSync(pad, new Uint8Array(256 * 1024));
        }
      },
    });
    expect(statSync(join(dir, "reserve.bin")).size).toBe(RESERVE);
    // One module at a time: with modules in parallel, another module's state write can free a page
    // between the fill and the next journal write.
    const outcome = await engine.submitBundle(rig.bundle({ sequence: 1, parallelism: 1, modules: allTwo }));
    expect(outcome.ok).toBe(true);
    await engine.idle();
    expect(filler).not.toBeNull();
    for (const id of MODULE_IDS) expectOn(id, "1.0.0");
    const bundle = engine.gatewayStatus().bundle!;
    expect(bundle.state).toBe("failed");
    expect(bundle.error).toMatchObject({
      code: "storage-unavailable",
      // The journal or state.json, whichever write came first after the disk filled up.
      context: { errno: "ENOSPC", path: expect.stringMatching(/\/state\/(journal|state)\.json$/) },
    });
    for (const status of engine.moduleStatuses()) {
      expect(status.version, status.module).toBe("1.0.0");
      // Rolled back when it had been changed; failed (by the full disk, before its device was
      // touched) for the module whose step the fault interrupted.
      expect(["rolled-back", "idle", "failed"], status.module).toContain(status.state);
      if (status.state === "failed")
        expect(status.lastError?.code, status.module).toBe("storage-unavailable");
    }
    expect(engine.moduleStatuses().filter((s) => s.state === "rolled-back").length).toBeGreaterThan(0);
    expect(
      rig.events.some(
        (e) => e.type === "bundle" && e.state === "failed" && e.error?.code === "storage-unavailable",
      ),
    ).toBe(true);
    // The reserve was spent on the undo; while the disk stays full no run starts.
    expect(existsSync(join(dir, "reserve.bin"))).toBe(false);
    const refused = await engine.submitBundle(rig.bundle({ sequence: 2, modules: allThree }));
    expect(refused).toMatchObject({ ok: false, code: "storage-unavailable" });
    // Space returns: the timer writes the reserve again, and the next bundle applies.
    expect(pad).not.toBeNull();
    for (const name of readdirSync(dir)) if (name.startsWith("filler")) rmSync(join(dir, name));
    rmSync(pad!);
    await vi.waitFor(() => expect(statSync(join(dir, "reserve.bin")).size).toBe(RESERVE), {
      timeout: 10_000,
      interval: 20,
    });
    expect(await engine.submitBundle(rig.bundle({ sequence: 3, modules: allThree }))).toMatchObject({
      ok: true,
    });
    await engine.idle();
    expect(engine.gatewayStatus().bundle).toMatchObject({ state: "committed", error: null });
    for (const id of MODULE_IDS) expectOn(id, "3.0.0");
  }, 60_000);

  it("shows the versions it learned from the modules at start although the full state disk cannot record them", async () => {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    rig = new Rig();
    const dir = tmpfs.mount(rig.stateDir, 2048);
    // A first start that learns nothing leaves the gateway with no record of its modules.
    const first = await rig.engine({
      config: { ...rig.config, reconcile: { ...rig.config.reconcile, atStart: false } },
    });
    expect(first.moduleStatuses().map((s) => s.version)).toEqual([null, null, null]);
    await first.stop();
    rmSync(join(dir, "reserve.bin"));
    tmpfs.fill(dir);
    const engine = await rig.engine();
    for (const status of engine.moduleStatuses()) expect(status.version, status.module).toBe("1.0.0");
    // A refused bundle re-reads the records; what was learned still shows.
    expect(await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }))).toMatchObject({
      ok: false,
      code: "storage-unavailable",
    });
    for (const status of engine.moduleStatuses()) expect(status.version, status.module).toBe("1.0.0");
  }, 60_000);

  it("touches no module after the state disk turns read-only mid-run, says so, and undoes the run by itself once it is writable", async () => {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    rig = new Rig();
    const dir = tmpfs.mount(rig.stateDir, 4096);
    let snapshot: Map<ModuleId, Uint8Array[]> | null = null;
    const engine = await rig.engine({
      storageCheckMs: 50,
      journalHook: ({ run }) => {
        if (snapshot === null && run.jobs.some((j) => j.step === "committed")) {
          tmpfs.readOnly(dir);
          snapshot = new Map(MODULE_IDS.map((id) => [id, flashOf(id)]));
        }
      },
    });
    // One module at a time, so that the fault falls between two modules' steps.
    await engine.submitBundle(rig.bundle({ sequence: 1, parallelism: 1, modules: allTwo }));
    const halted = await nextEvent(
      (e) => e.type === "bundle" && e.state === "running" && e.error?.code === "storage-unavailable",
    );
    expect(halted.type === "bundle" && halted.error?.context).toMatchObject({ errno: "EROFS" });
    // The status tells the truth: the bundle is not finished and says why; no module shows a step.
    expect(engine.gatewayStatus().bundle).toMatchObject({
      state: "running",
      error: { code: "storage-unavailable", context: { errno: "EROFS" } },
    });
    for (const status of engine.moduleStatuses()) {
      expect(["queued", "committed", "idle"], status.module).toContain(status.state);
      if (status.state !== "idle") expect(status.lastError?.code, status.module).toBe("storage-unavailable");
    }
    // New work is refused while the run waits for its storage.
    expect(await engine.submitBundle(rig.bundle({ sequence: 2, modules: allThree }))).toMatchObject({
      ok: false,
      code: "storage-unavailable",
    });
    for (const id of MODULE_IDS) expect(flashOf(id), id).toEqual(snapshot!.get(id));
    // Writable again: the gateway undoes the run without a restart.
    tmpfs.writable(dir);
    await engine.idle();
    for (const id of MODULE_IDS) expectOn(id, "1.0.0");
    expect(engine.gatewayStatus().bundle).toMatchObject({
      state: "failed",
      error: { code: "storage-unavailable", context: { errno: "EROFS" } },
    });
    for (const status of engine.moduleStatuses()) {
      expect(status.version, status.module).toBe("1.0.0");
      expect(["rolled-back", "idle", "failed"], status.module).toContain(status.state);
    }
    expect(await engine.submitBundle(rig.bundle({ sequence: 4, modules: allThree }))).toMatchObject({
      ok: true,
    });
    await engine.idle();
    for (const id of MODULE_IDS) expectOn(id, "3.0.0");
  }, 60_000);
});
