/**
 * The gateway's own attempts at a failed bundle (intake/quarantine.ts keeps the book): the timer of
 * the next automatic attempt after its back-off, the crash-loop guard that stops resuming a run a
 * restart keeps interrupting, and the quarantined bundle on the retained status.
 *
 * The engine owns runs and the decisions lock; this class reaches them only through the callbacks it
 * is given.
 */
import { describeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import type { SerialQueue } from "../../util/serial-queue.js";
import { planRetry, type CommandContext } from "../intake/commands.js";
import { bookInterruption } from "../intake/quarantine.js";
import type { GatewayEventDraft } from "../status/types.js";
import type { RunHostParts } from "./host.js";
import type { RunRecord } from "./types.js";

export interface RetrySchedulerOptions {
  /** The engine's parts once started (throws before). */
  parts: () => Pick<RunHostParts, "config" | "state" | "journal" | "board">;
  log: Logger;
  now: () => number;
  /** The engine's decisions lock: an automatic attempt is decided and journalled under it. */
  decisions: SerialQueue;
  /** Whether the engine is stopping. */
  stopped: () => boolean;
  /** Whether new work is refused now (a run in progress, a state alert, a storage halt, stopping). */
  busy: () => boolean;
  /** The last run (in progress or finished). */
  lastRun: () => RunRecord | null;
  /** What a signed retry is decided with; an automatic attempt is planned the same way. */
  commandContext: () => CommandContext;
  startRun: (run: RunRecord) => void;
  emitEvent: (event: GatewayEventDraft) => void;
}

export class RetryScheduler {
  readonly #o: RetrySchedulerOptions;
  /** The next automatic attempt of a failed bundle (intake/quarantine.ts). */
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: RetrySchedulerOptions) {
    this.#o = options;
  }

  /** Disarms the timer of the next automatic attempt. */
  cancel(): void {
    clearTimeout(this.#retryTimer);
  }

  /**
   * Counts a restart that interrupted the bundle's run; at `retry.attempts` in a row the run is not
   * resumed again but rolled back (as a pending cancel is), and the bundle quarantined (quarantine.ts).
   */
  async crashLoopGuard(run: RunRecord): Promise<void> {
    const parts = this.#o.parts();
    await parts.state.update((draft) => {
      draft.attempts = bookInterruption(draft.attempts ?? null, run, parts.config.retry);
    });
    const book = parts.state.get().attempts;
    if (!book?.quarantined || book.sequence !== run.sequence) return;
    run.cancelRequested = true;
    run.note = book.quarantined.message;
    await parts.journal.write(run, "crash loop: roll back");
    this.#o.log.error(
      { sequence: run.sequence, interruptions: book.interruptions },
      book.quarantined.message,
    );
  }

  /** A quarantined bundle shows as such on the retained status (and, when it just happened, as an event). */
  showQuarantine(announce = false): void {
    const parts = this.#o.parts();
    const book = parts.state.get().attempts;
    const bundle = parts.board.gateway().bundle;
    if (!book?.quarantined || !bundle || bundle.sequence !== book.sequence) return;
    parts.board.setBundle({ ...bundle, state: "quarantined", error: book.quarantined });
    this.#o.log.warn({ sequence: book.sequence, failures: book.failures }, book.quarantined.message);
    if (announce)
      this.#o.emitEvent({
        type: "bundle",
        state: "quarantined",
        release: book.release,
        sequence: book.sequence,
        error: book.quarantined,
        note: book.quarantined.message,
      });
  }

  /** Arms the timer of the next automatic attempt the book asks for (none while quarantined). */
  schedule(): void {
    clearTimeout(this.#retryTimer);
    const parts = this.#o.parts();
    const book = parts.state.get().attempts;
    if (!book?.nextAttemptAt || book.quarantined || this.#o.stopped()) return;
    const wait = Math.max(0, Date.parse(book.nextAttemptAt) - this.#o.now());
    this.#o.log.info(
      { sequence: book.sequence, at: book.nextAttemptAt },
      "next attempt of the failed bundle scheduled",
    );
    this.#retryTimer = setTimeout(() => void this.#autoRetry(book.sequence), wait);
    this.#retryTimer.unref();
  }

  /** The gateway's own retry of a failed bundle after its back-off: journalled and run like a signed retry. */
  #autoRetry(sequence: number): Promise<void> {
    return this.#o.decisions
      .run(async () => {
        const parts = this.#o.parts();
        const last = this.#o.lastRun();
        const book = parts.state.get().attempts;
        if (this.#o.busy() || !last || last.sequence !== sequence || book?.sequence !== sequence) return;
        if (book.quarantined || !book.nextAttemptAt) return;
        const decision = planRetry(this.#o.commandContext(), last);
        await parts.state.update((draft) => {
          if (draft.attempts) draft.attempts.nextAttemptAt = null;
        });
        if (decision.kind !== "start") {
          this.#o.log.warn({ sequence, reason: decision.outcome.message }, "no automatic attempt");
          return;
        }
        await parts.journal.write(decision.run, "automatic retry");
        this.#o.log.info({ sequence, attempt: book.failures + 1 }, "automatic retry of the failed bundle");
        this.#o.startRun(decision.run);
      })
      .catch((error: unknown) =>
        this.#o.log.error({ err: describeError(error), sequence }, "automatic retry could not start"),
      );
  }
}
