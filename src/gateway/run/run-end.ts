/**
 * What a finished run leaves in state.json and the image store: the floors it raised, the last run
 * and bundle, the retry book (intake/quarantine.ts), and only the images still needed.
 */
import { bookRunEnd } from "../intake/quarantine.js";
import type { RunHostParts } from "./host.js";
import type { RunRecord } from "./types.js";

export async function recordRunEnd(
  parts: Pick<RunHostParts, "config" | "state" | "images" | "now">,
  run: RunRecord,
): Promise<void> {
  await parts.state.update((draft) => {
    // Floors rise only with firmware that stays: committed installs (never a rollback's target).
    for (const job of run.jobs) {
      if (job.kind !== "install" || job.step !== "committed") continue;
      draft.securityFloors[job.moduleType] = Math.max(
        draft.securityFloors[job.moduleType] ?? 0,
        job.target.securityVersion,
      );
    }
    draft.lastRunId = run.id;
    draft.attempts = bookRunEnd(draft.attempts ?? null, run, parts.config.retry, parts.now());
    if (run.kind !== "rollback") {
      draft.lastBundle = {
        runId: run.id,
        release: run.release,
        sequence: run.sequence,
        state: run.outcome,
        error: run.firstError,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
      };
    }
  });
  const keep = new Set<string>();
  for (const record of Object.values(parts.state.get().modules))
    for (const image of [record.confirmed, record.previous]) if (image?.digest) keep.add(image.digest);
  for (const job of run.jobs)
    for (const ref of Object.values(job.target.images)) if (ref.digest) keep.add(ref.digest);
  await parts.images.prune(keep);
}
