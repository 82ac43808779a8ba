/** The wave policy of a campaign (src/mqtt/operator/campaign/waves.ts), on journalled records. */
import { describe, expect, it } from "vitest";
import type { CampaignRecord, GatewayRecord, WaveRecord } from "../../src/mqtt/operator/campaign/journal.js";
import { abortReason, advanceWaves } from "../../src/mqtt/operator/campaign/waves.js";

const T0 = Date.parse("2026-12-03T08:00:00.000Z");

function wave(index: number, extra: Partial<WaveRecord> = {}): WaveRecord {
  return {
    index,
    name: null,
    size: 1,
    approval: false,
    minSuccessPercentage: 0,
    soakSeconds: 0,
    startedAt: null,
    finishedAt: null,
    soakUntil: null,
    ...extra,
  };
}

function gateway(waveIndex: number, outcome: GatewayRecord["outcome"] = "pending"): GatewayRecord {
  return {
    wave: waveIndex,
    outcome,
    sentAt: null,
    finishedAt: null,
    offlineSince: null,
    error: null,
    modules: [],
    late: null,
    cancelSent: false,
  };
}

function record(waves: WaveRecord[], gateways: Record<string, GatewayRecord>): CampaignRecord {
  return {
    format: 1,
    id: "c1",
    bundleSha256: "00",
    release: "r-2",
    sequence: 2,
    state: "running",
    reason: null,
    startedAt: new Date(T0).toISOString(),
    finishedAt: null,
    paused: false,
    abortRequested: false,
    approvedUpTo: 0,
    waves,
    gateways,
    ineligible: [],
    decisions: [],
  };
}

function decisions(): { kinds: string[]; decide: (kind: string) => void } {
  const kinds: string[] = [];
  return { kinds, decide: (kind) => kinds.push(kind) };
}

describe("campaign waves", () => {
  it("starts the first wave and says which wave started", () => {
    const r = record([wave(1), wave(2)], { a: gateway(1), b: gateway(2) });
    const d = decisions();
    expect(advanceWaves(r, T0, d.decide)).toEqual({ started: [1] });
    expect(r.state).toBe("running");
    expect(r.waves[0]!.startedAt).toBe(new Date(T0).toISOString());
    expect(d.kinds).toEqual(["wave-start"]);
  });

  it("finishes a wave whose gateways all have an outcome, then soaks before the next", () => {
    const r = record([wave(1, { soakSeconds: 60 }), wave(2)], { a: gateway(1, "committed"), b: gateway(2) });
    const d = decisions();
    advanceWaves(r, T0, d.decide);
    expect(r.waves[0]!.finishedAt).not.toBeNull();
    expect(r.state).toBe("soaking");
    expect(r.waves[1]!.startedAt).toBeNull();
    expect(advanceWaves(r, T0 + 61_000, d.decide).started).toEqual([2]);
    expect(d.kinds).toEqual(["wave-start", "wave-done", "wave-start"]);
  });

  it("waits for an approval before a wave that needs one, and says so once", () => {
    const r = record([wave(1), wave(2, { approval: true })], { a: gateway(1, "committed"), b: gateway(2) });
    const d = decisions();
    advanceWaves(r, T0, d.decide);
    advanceWaves(r, T0 + 1, d.decide);
    expect(r.state).toBe("waiting-approval");
    expect(r.reason).toContain("subflash campaign approve c1");
    expect(d.kinds.filter((k) => k === "wait-approval")).toHaveLength(1);
    r.approvedUpTo = 2;
    expect(advanceWaves(r, T0 + 2, d.decide).started).toEqual([2]);
  });

  it("pauses the rollout, retained-pause time returned, when a wave's success rate is under its minimum", () => {
    const r = record([wave(1, { size: 2, minSuccessPercentage: 80 }), wave(2)], {
      a: gateway(1, "committed"),
      b: gateway(1, "failed"),
      c: gateway(2),
    });
    const step = advanceWaves(r, T0, () => {});
    expect(step.autoPausedAt).toBe(new Date(T0).toISOString());
    expect(r).toMatchObject({ paused: true, state: "paused" });
    expect(r.reason).toContain("50.0 % < 80 %");
  });

  it("completes the campaign when the last wave is done, even below its minimum (nothing left to protect)", () => {
    const r = record([wave(1, { minSuccessPercentage: 100 })], { a: gateway(1, "failed") });
    const d = decisions();
    expect(advanceWaves(r, T0, d.decide).autoPausedAt).toBeUndefined();
    expect(r.state).toBe("completed");
    expect(d.kinds.at(-1)).toBe("done");
  });

  it("holds a paused campaign without starting anything", () => {
    const r = record([wave(1)], { a: gateway(1) });
    r.paused = true;
    expect(advanceWaves(r, T0, () => {}).started).toEqual([]);
    expect(r.state).toBe("paused");
  });
});

describe("campaign abort criteria", () => {
  const criteria = [
    { failureType: "failed" as const, thresholdPercentage: 50, minNumberOfExecutedThings: 2 },
  ];

  it("does not judge before enough gateways have executed", () => {
    const r = record([wave(1)], { a: gateway(1, "failed"), b: gateway(1, "in-progress") });
    expect(abortReason(r, criteria)).toBeUndefined();
  });

  it("names the criterion met: failures of the type over the executed gateways", () => {
    const r = record([wave(1)], { a: gateway(1, "failed"), b: gateway(1, "committed") });
    expect(abortReason(r, criteria)).toBe("abort criterion met: 1 of 2 executed failed (50.0 % ≥ 50 %)");
  });

  it("does not count skipped gateways as executed", () => {
    const r = record([wave(1)], { a: gateway(1, "failed"), b: gateway(1, "skipped") });
    expect(abortReason(r, criteria)).toBeUndefined();
  });

  it("counts failed, rejected and timed-out gateways for 'any'", () => {
    const r = record([wave(1)], {
      a: gateway(1, "rejected"),
      b: gateway(1, "timed-out"),
      c: gateway(1, "committed"),
    });
    const any = [{ failureType: "any" as const, thresholdPercentage: 60, minNumberOfExecutedThings: 1 }];
    expect(abortReason(r, any)).toContain("2 of 3 executed any");
  });
});
