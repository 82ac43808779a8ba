import { describe, expect, it } from "vitest";
import { ProgressTracker } from "../../../src/targets/stm32/flasher-progress.js";

describe("progress tracker", () => {
  it("weights phases by their modelled duration", () => {
    const t = new ProgressTracker(
      [
        { phase: "erase", ms: 1000 },
        { phase: "write", ms: 3000 },
        { phase: "verify", ms: 0 },
      ],
      () => 0,
    );
    expect(t.at("erase", 0, 4).percent).toBe(0);
    expect(t.at("erase", 4, 4).percent).toBe(25);
    expect(t.at("write", 1500, 3000).percent).toBe(62.5);
    expect(t.at("verify", 1, 1).percent).toBe(100);
  });

  it("never goes backwards, even when a later call reports less", () => {
    const t = new ProgressTracker([{ phase: "write", ms: 100 }]);
    expect(t.at("write", 80, 100).percent).toBe(80);
    expect(t.at("write", 10, 100).percent).toBe(80);
  });

  it("estimates the remaining time from the model first, then from the measured pace", () => {
    let now = 0;
    const t = new ProgressTracker([{ phase: "write", ms: 10_000 }], () => now);
    expect(t.at("write", 1, 100).remainingSeconds).toBeCloseTo(9.9, 5);
    now = 4_000; // twice as slow as modelled: 20 % done in 4 s leaves 16 s
    expect(t.at("write", 20, 100).remainingSeconds).toBeCloseTo(16, 5);
  });
});
