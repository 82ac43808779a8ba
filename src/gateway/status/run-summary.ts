/**
 * The gateway summary's account of the last run, whatever started it, so that the gateway line and
 * the module lines tell the same story: after a rollback command the summary says "rollback
 * committed", not the bundle that ran before it.
 */
import type { RunRecord } from "../run/types.js";
import type { RunSummary } from "./types.js";

export function summariseRun(run: RunRecord): RunSummary {
  const subject =
    run.kind === "rollback"
      ? "rollback"
      : run.kind === "retry"
        ? `retry of ${run.release ?? "the last bundle"}`
        : `bundle ${run.release ?? "?"}`;
  const state = run.state === "finished" ? run.outcome : "running";
  // A rollback run that did its job ends "rolled-back" in the journal; what it did was commit the
  // previous firmware, which is what the modules show ("committed", or "rolled-back" when older).
  const shown =
    run.state === "rolling-back"
      ? "rolling back"
      : run.kind === "rollback" && state === "rolled-back"
        ? "committed"
        : state;
  const error = run.firstError && state !== "committed" ? ` (${run.firstError.code})` : "";
  return {
    kind: run.kind,
    release: run.release,
    sequence: run.sequence,
    state,
    summary: `${subject} ${shown}${error}`,
    notes: run.notes ?? null,
    error: run.firstError,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}
