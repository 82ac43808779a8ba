/**
 * The engine's watch over its state storage: the space reserve re-created on a timer while it is
 * missing (store/reserve.ts), and a run halted by the storage held until the storage takes writes
 * again, then undone (the policy is in storage-halt.ts). While a run is halted, new work is refused
 * with its error (`halt`).
 */
import { describeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import type { SpaceReserve } from "../store/reserve.js";
import { storageFaultOf } from "../store/storage-fault.js";
import type { GatewayEventDraft, StatusError } from "../status/types.js";
import type { RunHostParts } from "./host.js";
import { retakeHalted, showHalted, untilStorageTakesWrites } from "./storage-halt.js";
import type { RunRecord } from "./types.js";

export interface StorageWatchOptions {
  log: Logger;
  /** The size of the space reserve, for the log. */
  reserveBytes: number;
  /** `storage.checkSeconds` in ms (or the tests' override): reserve re-creation, retries of a halted run. */
  checkMs: () => number;
  /** Resolves when the engine stops: a halted run's retries end there. */
  stopped: Promise<void>;
  emitEvent: (event: GatewayEventDraft) => void;
  /** The bookkeeping of a finished run (state, floors, images, status). */
  finished: (run: RunRecord) => Promise<void>;
  startRun: (run: RunRecord, resumed: readonly string[]) => void;
}

export class StorageWatch {
  readonly #o: StorageWatchOptions;
  #reserveTimer: NodeJS.Timeout | undefined;
  /** A run halted by its state storage (run/storage-halt.ts): new work is refused with this. */
  #storageHalt: StatusError | null = null;

  constructor(options: StorageWatchOptions) {
    this.#o = options;
  }

  /** The error new work is refused with while a run is halted by its storage, else null. */
  get halt(): StatusError | null {
    return this.#storageHalt;
  }

  /** Tries to re-create the space reserve every check interval while `idle()` says no run is going on. */
  watchReserve(reserve: SpaceReserve, idle: () => boolean): void {
    this.#reserveTimer = setInterval(() => {
      if (idle()) void reserve.ensure().catch((e: unknown) => this.reserveMissing(e));
    }, this.#o.checkMs());
    this.#reserveTimer.unref();
  }

  /** Stops re-creating the reserve. */
  stop(): void {
    clearInterval(this.#reserveTimer);
  }

  reserveMissing(error: unknown): void {
    const fault = storageFaultOf(error);
    this.#o.log.warn(
      {
        errno: fault?.errno,
        path: fault?.path,
        err: fault ? undefined : describeError(error),
        bytes: this.#o.reserveBytes,
      },
      "the state directory's space reserve cannot be written: no run starts until it can",
    );
  }

  /**
   * The storage refused the writes a run needs (run/storage-halt.ts): show it, wait on a back-off
   * until the storage takes writes again, then undo the run from the journal (or finish its
   * bookkeeping), without a restart.
   */
  async storageHalted(parts: RunHostParts, run: RunRecord, error: StatusError): Promise<void> {
    this.#storageHalt = error;
    showHalted(parts, run, error);
    if (run.release !== null)
      parts.board.setBundle({
        release: run.release,
        sequence: run.sequence ?? 0,
        state: "running",
        error,
        startedAt: run.startedAt,
        finishedAt: null,
      });
    this.#o.log.error({ run: run.id, ...error.context }, error.message);
    this.#o.emitEvent({
      type: "bundle",
      state: "running",
      release: run.release,
      sequence: run.sequence,
      error,
      note: "halted until the state storage takes writes again",
    });
    const maxMs = this.#o.checkMs();
    const retaken = await untilStorageTakesWrites(
      async () => {
        const next = await retakeHalted(parts, error);
        if (next.kind === "finished" && next.run) await this.#o.finished(next.run);
        return next;
      },
      {
        firstMs: Math.min(1000, maxMs),
        maxMs,
        stopped: this.#o.stopped,
      },
    );
    this.#storageHalt = null;
    if (!retaken) return;
    this.#o.log.warn({ run: run.id, kind: retaken.kind }, "the state storage takes writes again");
    if (retaken.kind === "undo") this.#o.startRun(retaken.recovery.run, retaken.recovery.resumed);
  }
}
