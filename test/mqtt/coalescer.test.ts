import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "../../src/mqtt/gateway/coalescer.js";

describe("coalescer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes the first value at once and then at most one per interval, ending with the latest", () => {
    const out: Array<[string, number]> = [];
    const c = new Coalescer<number>(
      1000,
      (k, v) => out.push([k, v]),
      () => Date.now(),
    );
    for (let i = 1; i <= 10; i++) {
      c.submit("m", i);
      vi.advanceTimersByTime(150);
    }
    // t=0 → 1; t=1000 → latest then (7); the rest waits for t=2000
    expect(out).toEqual([
      ["m", 1],
      ["m", 7],
    ]);
    vi.advanceTimersByTime(1000);
    expect(out.at(-1)).toEqual(["m", 10]);
    expect(out).toHaveLength(3);
  });

  it("sends urgent values at once and drops the pending one they replace", () => {
    const out: number[] = [];
    const c = new Coalescer<number>(
      1000,
      (_k, v) => out.push(v),
      () => Date.now(),
    );
    c.submit("m", 1);
    c.submit("m", 2);
    c.submit("m", 3, true);
    vi.advanceTimersByTime(5000);
    expect(out).toEqual([1, 3]);
  });

  it("limits each key on its own", () => {
    const out: string[] = [];
    const c = new Coalescer<number>(
      1000,
      (k, v) => out.push(`${k}${v}`),
      () => Date.now(),
    );
    c.submit("a", 1);
    c.submit("b", 1);
    c.submit("a", 2);
    c.flush();
    expect(out).toEqual(["a1", "b1", "a2"]);
  });

  it("forgets pending values on drop and dispose", () => {
    const out: number[] = [];
    const c = new Coalescer<number>(
      1000,
      (_k, v) => out.push(v),
      () => Date.now(),
    );
    c.submit("a", 1);
    c.submit("a", 2);
    c.drop("a");
    c.submit("b", 1);
    c.submit("b", 2);
    c.dispose();
    vi.advanceTimersByTime(5000);
    expect(out).toEqual([1, 1]);
  });
});
