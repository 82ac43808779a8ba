import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/gateway/config/config.js";
import { StatusBoard } from "../../src/gateway/status/board.js";
import type { ModuleStatus } from "../../src/gateway/status/types.js";

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
});
