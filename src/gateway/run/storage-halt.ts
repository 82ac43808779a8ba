/**
 * A run halted by its state storage (issue 10, defect 2): the storage refused even the writes of the
 * undo (read-only, or still full after the space reserve was freed), so the executor stopped touching
 * modules. Policy, the same for every errno:
 *
 * - the halt is shown at once: the bundle stays `running` with error `storage-unavailable` (errno
 *   and file in its context), each module of the run that is not settled shows `queued` with that
 *   error and a note saying it waits for the storage; new bundles and commands are refused with
 *   `storage-unavailable`;
 * - the gateway tries again on a back-off (1 s doubling to `storage.checkSeconds`): the space reserve
 *   must be back on disk and the journal writable; then the run is undone from the journal (what is
 *   on disk is what was done: every step is journalled before it acts), without a restart. A run
 *   the storage stopped is never resumed: its bundle was reported failed.
 */
import type { RunHostParts } from "./host.js";
import { jobStatus } from "./host.js";
import { prepareRecovery, type Recovery } from "./recovery.js";
import type { RunRecord } from "./types.js";
import { storageFaultOf, storageStatusError, type StorageFault } from "../store/storage-fault.js";
import type { StatusError } from "../status/types.js";

const SETTLED = new Set(["committed", "rolled-back", "failed", "skipped"]);

/** The error a halted run publishes. */
export function haltError(fault: StorageFault): StatusError {
  return storageStatusError(
    fault,
    "the run is halted before its next module step; it is undone once the state storage takes writes again",
  );
}

/** Shows every module of the halted run as waiting, with the storage error. */
export function showHalted(parts: RunHostParts, run: RunRecord, error: StatusError): void {
  for (const job of run.jobs) {
    const waiting = !SETTLED.has(job.step) || (run.allOrNothing && job.step === "committed");
    if (!waiting) continue;
    parts.board.update(job.module, {
      ...(SETTLED.has(job.step) ? {} : { state: "queued" as const, progress: null }),
      lastError: error,
      note: "halted: waiting for the state storage to take writes again, then undone",
    });
  }
}

export type Retaken = { kind: "undo"; recovery: Recovery } | { kind: "finished"; run: RunRecord | null };

/**
 * One attempt to take a halted run up again: the reserve back, the journal read and its rollback
 * journalled. Throws the storage error when the storage still refuses.
 */
export async function retakeHalted(parts: RunHostParts, error: StatusError): Promise<Retaken> {
  await parts.reserve.ensure();
  const run = await parts.journal.load();
  if (!run || run.state === "finished") return { kind: "finished", run };
  run.firstError ??= error;
  for (const job of run.jobs) if (!SETTLED.has(job.step) && job.step !== "pending") job.error ??= error;
  const recovery = await prepareRecovery(parts, run, {
    note: `rolled back: the state storage refused a write (${String(error.context?.errno)}); undone once it took writes again`,
  });
  if (!recovery) return { kind: "finished", run };
  for (const job of run.jobs) parts.board.update(job.module, { ...jobStatus(job), lastError: job.error });
  return { kind: "undo", recovery };
}

/**
 * Calls `attempt` until it does not fail on storage: after `firstMs`, doubling up to `maxMs`.
 * Resolves null when `stopped` resolves first. Errors other than storage faults are thrown.
 */
export async function untilStorageTakesWrites<T>(
  attempt: () => Promise<T>,
  options: {
    firstMs: number;
    maxMs: number;
    stopped: Promise<void>;
    onRefused?: (fault: StorageFault) => void;
  },
): Promise<T | null> {
  let wait = Math.min(options.firstMs, options.maxMs);
  let stop = false;
  void options.stopped.then(() => (stop = true));
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([options.stopped, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]);
    clearTimeout(timer);
    if (stop) return null;
    try {
      return await attempt();
    } catch (error) {
      const fault = storageFaultOf(error);
      if (!fault) throw error;
      options.onRefused?.(fault);
    }
    wait = Math.min(wait * 2, options.maxMs);
  }
}
