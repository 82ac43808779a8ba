/**
 * Start-up after a crash, a kill or a power cut of the gateway: the journal's last run is unfinished.
 * It is resumed (each interrupted step re-runs, checking the device first, see install-job.ts and
 * rollback.ts) or rolled back: when the configuration says so, when the release has expired meanwhile,
 * when a cancel was pending, or when it was already rolling back. Every module of the run gets a note
 * saying which ("resumed after restart" / "rolled back after restart").
 */
import type { RunHostParts } from "./host.js";
import { jobStatus } from "./host.js";
import type { JobRecord, RunRecord } from "./types.js";

export interface Recovery {
  run: RunRecord;
  decision: "resume" | "rollback";
  /** Modules whose step was interrupted and is re-run. */
  resumed: string[];
}

const IN_FLIGHT = new Set<JobRecord["step"]>([
  "preparing",
  "backup",
  "writing",
  "activating",
  "health-check",
  "committing",
  "rolling-back",
]);

/**
 * `undo`, when given, forces a rollback with that note: a run halted by the state storage is undone
 * without a restart once the storage takes writes again (storage-halt.ts).
 */
export async function prepareRecovery(
  parts: RunHostParts,
  run: RunRecord,
  undo?: { note: string },
): Promise<Recovery | null> {
  if (run.state === "finished") return null;
  const expired = run.expiresAt !== null && Date.parse(run.expiresAt) <= parts.now();
  let decision: Recovery["decision"] = "resume";
  if (run.state === "rolling-back") decision = "rollback";
  else if (undo || parts.config.recovery === "rollback" || expired || run.cancelRequested) {
    decision = "rollback";
    run.state = "rolling-back";
  }
  const note =
    undo?.note ??
    (decision === "resume"
      ? "resumed after restart"
      : `rolled back after restart${expired ? " (the release expired meanwhile)" : ""}`);
  run.note = note;
  const resumed = run.jobs.filter((j) => IN_FLIGHT.has(j.step)).map((j) => j.module);
  for (const job of run.jobs) {
    const affected =
      IN_FLIGHT.has(job.step) || (decision === "resume" ? job.step === "pending" : job.step === "committed");
    if (affected) job.note = note;
  }
  // The sequence is persisted right after the journal entry that accepted the bundle: a kill in
  // between must not let the same bundle in again.
  await parts.state.update((draft) => {
    if (run.kind !== "rollback" && run.sequence !== null)
      draft.lastSequence = Math.max(draft.lastSequence, run.sequence);
  });
  parts.board.setLastSequence(parts.state.get().lastSequence);
  await parts.journal.write(run, `recovery: ${decision}`);
  for (const job of run.jobs) {
    if (job.note !== note) continue;
    parts.board.update(job.module, {
      ...jobStatus(job),
      ...(IN_FLIGHT.has(job.step) ? { state: "queued" as const } : {}),
    });
  }
  parts.log.info({ run: run.id, release: run.release, decision, resumed }, note);
  return { run, decision, resumed };
}
