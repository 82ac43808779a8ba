import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/gateway/config/config.js";
import { StatusBoard } from "../../src/gateway/status/board.js";
import type { ModuleStatus } from "../../src/gateway/status/types.js";
import { backupProgress, backupShare } from "../../src/gateway/status/progress.js";

const config = parseConfig(
  {
    gateway: { id: "gw", groups: ["g"] },
    trustStore: "t",
    stateDir: "s",
    modules: [
      {
        id: "power",
        type: "power-board",
        device: "f103",
        transport: { usart: { path: "/dev/ttyS1" } },
        entry: { method: "gpio", chip: "gpiochip0", boot0: 1, nrst: 2 },
        layout: { kind: "single", slot: { address: 0x08000000, size: 0x10000 } },
      },
    ],
  },
  { checkFiles: false },
);

function board() {
  let now = 0;
  const emitted: Array<{ status: ModuleStatus; progressOnly: boolean }> = [];
  const b = new StatusBoard({
    gateway: "gw",
    groups: ["g"],
    modules: config.modules,
    now: () => now,
    sink: {
      moduleStatus: (status, change) => emitted.push({ status, progressOnly: change.progressOnly }),
      gatewayStatus: () => {},
    },
  });
  return { b, emitted, tick: (ms: number) => (now += ms) };
}

const progress = (phase: string, percent: number) => ({
  progress: { phase, done: percent, total: 100, percent },
  remainingSeconds: (100 - percent) / 10,
});

describe("module status board", () => {
  it("emits at most one progress update per module per 500 ms, plus phase changes and 100 %", () => {
    const { b, emitted, tick } = board();
    b.update("power", { state: "writing" });
    for (let p = 1; p <= 100; p++) {
      tick(20);
      b.update("power", progress(p < 60 ? "write" : "verify", p));
    }
    const updates = emitted
      .filter((e) => e.progressOnly)
      .map((e) => [e.status.progress!.phase, e.status.progress!.percent]);
    // 2 s of writing at 20 ms steps: a handful of updates, not 100.
    expect(updates.length).toBeLessThanOrEqual(8);
    expect(updates).toContainEqual(["verify", 60]);
    expect(updates.at(-1)).toEqual(["verify", 100]);
    expect(emitted.at(-1)!.status.remainingSeconds).toBe(0);
    const seqs = emitted.map((e) => e.status.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it("never holds back a state change, and clears stale progress when the module settles", () => {
    const { b, emitted } = board();
    b.update("power", { state: "writing", ...progress("write", 50) });
    b.update("power", { state: "failed", lastError: { code: "flash-failed", message: "x" } });
    expect(emitted.map((e) => e.status.state)).toEqual(["writing", "failed"]);
    expect(emitted.at(-1)!.status).toMatchObject({ progress: null, remainingSeconds: null });
    expect(b.gateway().modules.power).toEqual({ state: "failed", version: null, activeSlot: null });
  });

  it("keeps the overall percent rising from the backup read-back through the flash, naming the phase backing-up", () => {
    const { b, emitted, tick } = board();
    b.update("power", { state: "queued" });
    const share = backupShare(65536, 65536);
    b.update("power", { state: "backing-up", progress: backupProgress(0, 65536, share) });
    for (let done = 4096; done <= 65536; done += 4096) {
      tick(600);
      b.update("power", { progress: backupProgress(done, 65536, share) });
    }
    b.update("power", { state: "entering-bootloader", ...progress("connect", 0) });
    for (let p = 0; p <= 100; p += 5) {
      tick(600);
      b.update("power", {
        state: p < 30 ? "erasing" : "writing",
        ...progress(p < 30 ? "erase" : "write", p),
      });
    }
    const seen = emitted.filter((e) => e.status.progress).map((e) => e.status.progress!.percent);
    expect(emitted.some((e) => e.status.state === "backing-up")).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(100);
    // The backup took its share of the bar, not all of it.
    const lastBackup = emitted.filter((e) => e.status.progress?.phase === "backup").at(-1)!;
    expect(lastBackup.status.progress!.percent).toBeCloseTo(share * 100, 0);
  });

  it("starts a new bar for the next run and for a rollback", () => {
    const { b, emitted } = board();
    b.update("power", { state: "writing", ...progress("write", 80) });
    b.update("power", { state: "rolling-back", ...progress("write", 10) });
    expect(emitted.at(-1)!.status.progress!.percent).toBe(10);
    b.update("power", { state: "committed" });
    b.update("power", { state: "queued" });
    b.update("power", { state: "writing", ...progress("write", 5) });
    expect(emitted.at(-1)!.status.progress!.percent).toBe(5);
  });
});
