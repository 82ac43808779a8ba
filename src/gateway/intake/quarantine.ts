/**
 * No update loops (issue 10): a bundle whose attempt failed is tried again after a back-off that
 * doubles each time (config `retry`), and after `retry.attempts` failed attempts it is quarantined
 * until a newer sequence or a signed `retry` command arrives. The book lives in state.json, so a
 * restart neither forgets a quarantine nor the back-off of the next attempt.
 *
 * What counts as a failed attempt: a run of the bundle (the first, an automatic retry, a signed
 * retry, or one resumed after a restart) that ENDED `failed`, whether or not the rollback put every
 * module back: the firmware or the module did not make it, and trying again immediately would loop.
 * A restart in the middle is not a failed attempt of its own (the resumed run's end is counted once),
 * but restarts that keep interrupting the same bundle are a crash loop: after `retry.attempts` (at
 * least 2) interruptions in a row the resumed run is rolled back instead and the bundle quarantined. A
 * cancelled run is the operator's decision, not a failure, and schedules nothing.
 */
import type { GatewayConfig } from "../config/config.js";
import type { RunRecord } from "../run/types.js";
import type { StatusError } from "../status/types.js";

/** The failed attempts of the latest bundle (one at a time: a newer sequence replaces it). */
export interface AttemptBook {
  sequence: number;
  release: string | null;
  /** Failed attempts so far. */
  failures: number;
  /** Failed attempts per module (modules only held back by another's failure are not counted). */
  modules: Record<string, number>;
  lastError: StatusError | null;
  /** When the next automatic attempt is due (ISO); null when none is scheduled. */
  nextAttemptAt: string | null;
  /** Set after `retry.attempts` failures: no more automatic attempts. */
  quarantined: StatusError | null;
  /** Restarts in a row that found this bundle's run unfinished (reset when a run of it ends). */
  interruptions?: number;
}

export type RetryPolicy = GatewayConfig["retry"];

/** Errors that say nothing about the module's own attempt: another module failed first, or the operator stopped it. */
const NOT_THE_MODULE = new Set(["dependency-failed", "cancelled"]);

/** The book after `run` ended (run/run-end.ts calls it where the run's end is booked). */
export function bookRunEnd(
  book: AttemptBook | null,
  run: RunRecord,
  policy: RetryPolicy,
  now: number,
): AttemptBook | null {
  if (run.kind === "rollback" || run.sequence === null) return book;
  const same = book !== null && book.sequence === run.sequence ? book : null;
  if (run.outcome === "committed") return null;
  if (run.outcome !== "failed") return same && { ...same, nextAttemptAt: null };
  const failures = (same?.failures ?? 0) + 1;
  const modules = { ...(same?.modules ?? {}) };
  for (const job of run.jobs)
    if (job.error && !NOT_THE_MODULE.has(job.error.code))
      modules[job.module] = (modules[job.module] ?? 0) + 1;
  const lastError = run.firstError;
  const expired = run.expiresAt !== null && Date.parse(run.expiresAt) <= now;
  const next: AttemptBook = {
    sequence: run.sequence,
    release: run.release,
    failures,
    modules,
    lastError,
    nextAttemptAt: null,
    quarantined: null,
    interruptions: 0,
  };
  if (failures >= policy.attempts) {
    next.quarantined = quarantineError(next, policy);
  } else if (!expired) {
    next.nextAttemptAt = new Date(now + backoffMs(failures, policy)).toISOString();
  }
  return next;
}

/**
 * A restart found `run` unfinished and is about to resume it. Returns the book, quarantined when
 * the restarts in a row reach `retry.attempts` (the caller then rolls the run back instead).
 */
export function bookInterruption(
  book: AttemptBook | null,
  run: RunRecord,
  policy: RetryPolicy,
): AttemptBook | null {
  if (run.kind === "rollback" || run.sequence === null) return book;
  const same = book !== null && book.sequence === run.sequence ? book : null;
  const next: AttemptBook = {
    sequence: run.sequence,
    release: run.release,
    failures: same?.failures ?? 0,
    modules: { ...(same?.modules ?? {}) },
    lastError: same?.lastError ?? null,
    nextAttemptAt: null,
    quarantined: same?.quarantined ?? null,
    interruptions: (same?.interruptions ?? 0) + 1,
  };
  // One restart is always resumed (that is what the journal is for), whatever `attempts` says.
  if (next.interruptions! >= Math.max(2, policy.attempts) && !next.quarantined) {
    next.quarantined = {
      code: "quarantined",
      message: `release ${run.release ?? "?"} (sequence ${run.sequence}) was interrupted by ${next.interruptions} restarts in a row (a crash loop?): rolled back and quarantined until a newer sequence or a signed retry`,
      context: { sequence: run.sequence, interruptions: next.interruptions },
    };
  }
  return next;
}

/** The wait before attempt `failures + 1`: backoffMs, doubled per failure, at most maxBackoffMs. */
export function backoffMs(failures: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffMs * 2 ** Math.max(0, failures - 1), policy.maxBackoffMs);
}

/** A signed retry or a newer sequence lifts a quarantine; the count starts again. */
export function liftedBy(book: AttemptBook | null, sequence: number | null): AttemptBook | null {
  if (!book) return null;
  if (sequence !== null && sequence > book.sequence) return null;
  return { ...book, failures: 0, modules: {}, nextAttemptAt: null, quarantined: null, interruptions: 0 };
}

function quarantineError(book: AttemptBook, policy: RetryPolicy): StatusError {
  const modules = Object.entries(book.modules)
    .map(([id, n]) => `${id} ×${n}`)
    .join(", ");
  const cause = book.lastError ? `, last: ${book.lastError.code}` : "";
  return {
    code: "quarantined",
    message: `release ${book.release ?? "?"} (sequence ${book.sequence}) failed ${book.failures} of ${policy.attempts} attempts (${modules || "no module named"}${cause}): quarantined until a newer sequence or a signed retry`,
    context: {
      sequence: book.sequence,
      failures: book.failures,
      modules: book.modules,
      lastError: book.lastError,
    },
  };
}
