/** The back-off and quarantine book (src/gateway/intake/quarantine.ts), decided without a clock of its own. */
import { describe, expect, it } from "vitest";
import { backoffMs, bookInterruption, bookRunEnd, liftedBy } from "../../src/gateway/intake/quarantine.js";
import type { RunRecord } from "../../src/gateway/run/types.js";

const policy = { attempts: 3, backoffMs: 1000, maxBackoffMs: 3000 };
const NOW = Date.parse("2026-01-01T00:00:00Z");

function run(outcome: RunRecord["outcome"], extra: Partial<RunRecord> = {}): RunRecord {
  return {
    format: 1,
    id: "r",
    kind: "bundle",
    release: "r-5",
    sequence: 5,
    bundleDigest: null,
    expiresAt: "2026-02-01T00:00:00Z",
    allOrNothing: true,
    maxParallel: 1,
    state: "finished",
    outcome,
    cancelRequested: outcome === "cancelled",
    jobs: [
      { module: "motor", error: { code: "health-check-failed", message: "x" } },
      { module: "radio", error: { code: "dependency-failed", message: "y" } },
    ] as RunRecord["jobs"],
    commitOrder: [],
    firstError: { code: "health-check-failed", message: "x" },
    note: null,
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: null,
    ...extra,
  };
}

describe("quarantine book", () => {
  it("doubles the back-off per failure up to maxBackoffMs", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, policy))).toEqual([1000, 2000, 3000, 3000]);
  });

  it("counts a failed run against the modules that failed themselves, not those held back by them", () => {
    const book = bookRunEnd(null, run("failed"), policy, NOW);
    expect(book).toMatchObject({ sequence: 5, failures: 1, modules: { motor: 1 }, quarantined: null });
    expect(book!.modules.radio).toBeUndefined();
    expect(book!.nextAttemptAt).toBe("2026-01-01T00:00:01.000Z");
  });

  it("quarantines on the last allowed failure and schedules nothing more", () => {
    let book = bookRunEnd(null, run("failed"), policy, NOW);
    book = bookRunEnd(book, run("failed", { kind: "retry" }), policy, NOW);
    book = bookRunEnd(book, run("failed", { kind: "retry" }), policy, NOW);
    expect(book).toMatchObject({ failures: 3, nextAttemptAt: null, quarantined: { code: "quarantined" } });
  });

  it("does not count a cancelled run, nor schedule an attempt of an expired release", () => {
    const book = bookRunEnd(null, run("failed"), policy, NOW);
    expect(bookRunEnd(book, run("cancelled"), policy, NOW)).toMatchObject({
      failures: 1,
      nextAttemptAt: null,
    });
    const expired = bookRunEnd(null, run("failed", { expiresAt: "2025-12-31T00:00:00Z" }), policy, NOW);
    expect(expired).toMatchObject({ failures: 1, nextAttemptAt: null, quarantined: null });
  });

  it("forgets the book when the bundle commits or a newer sequence arrives; a signed retry resets the count", () => {
    const book = bookRunEnd(null, run("failed"), policy, NOW);
    expect(bookRunEnd(book, run("committed"), policy, NOW)).toBeNull();
    expect(liftedBy(book, 6)).toBeNull();
    expect(liftedBy(book, null)).toMatchObject({ sequence: 5, failures: 0, quarantined: null });
  });

  it("quarantines after retry.attempts restarts in a row, but always resumes after a single one", () => {
    const once = bookInterruption(null, run("running"), { ...policy, attempts: 1 });
    expect(once).toMatchObject({ interruptions: 1, quarantined: null });
    const twice = bookInterruption(once, run("running"), { ...policy, attempts: 1 });
    expect(twice).toMatchObject({ interruptions: 2, quarantined: { code: "quarantined" } });
    // An attempt that ends resets the count of restarts in a row.
    expect(bookRunEnd(once, run("failed"), policy, NOW)).toMatchObject({ interruptions: 0, failures: 1 });
  });
});
