import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/mqtt/connection/backoff.js";

describe("reconnect backoff", () => {
  it("doubles up to the ceiling and starts over after a reset", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("keeps at least half of each delay fixed and jitters the rest", () => {
    const low = new Backoff({ initialMs: 1000, random: () => 0 });
    expect(low.next()).toBe(500);
    const mid = new Backoff({ initialMs: 1000, random: () => 0.5 });
    expect(mid.next()).toBe(750);
  });

  it("refuses settings that would never back off", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(/maxMs >= initialMs/);
  });
});
