/**
 * Executes one run (bundle, retry or rollback command) from its journalled record, fresh or after a
 * restart: schedules the jobs (one per bus, buses in parallel, within the parallelism limit, after their
 * dependencies), retries transient failures a bounded number of times, undoes a failed job at once,
 * and applies the bundle policy: all-or-nothing rolls back every module already committed, in reverse
 * commit order; a cancel stops at the next safe point and does the same.
 *
 * A write the state storage refuses (issue 10, defect 2) fails the run: nothing new starts, jobs in
 * flight stop at their next safe point, and what was applied is undone as for a failed bundle (the
 * host frees the space reserve first, so a full disk still takes the undo's journal writes). When
 * even the undo cannot be journalled (read-only, or still full), the run HALTS: no module is touched
 * again, `halt` names the fault, and the engine finishes the undo once the storage takes writes.
 */
import type { Logger } from "../../util/logger.js";
import type { GatewayConfig, ModuleConfig } from "../config/config.js";
import { BootloaderError, TransportError } from "../../targets/index.js";
import { GatewayError } from "../errors.js";
import { runInstall } from "../module/install-job.js";
import { moduleError, statusError, type JobEnv } from "../module/job-env.js";
import { nextJobs } from "../plan/planner.js";
import { releaseModule, runRestore } from "../module/rollback.js";
import type { JobRecord, RunRecord } from "./types.js";
import type { StoredState } from "../store/state-store.js";
import type { BundleState, StatusError } from "../status/types.js";
import {
  isOutOfSpace,
  storageFaultOf,
  storageGatewayError,
  storageStatusError,
  type StorageFault,
} from "../store/storage-fault.js";

export interface ExecutorHost {
  config: GatewayConfig;
  log: Logger;
  /** A job environment for one module; `signal` aborts its steps. */
  env(job: JobRecord, signal: AbortSignal): JobEnv;
  checkpoint(what: string): Promise<void>;
  /** The state storage refused a write: free the space reserve for the undo's writes. */
  storageFault(fault: StorageFault): Promise<void>;
  /** Reflects a job's terminal or queued state in the module status. */
  showJob(job: JobRecord): void;
  now(): number;
}

/** Errors worth another attempt of the same job: the link, not the firmware. */
export class RunExecutor {
  readonly #host: ExecutorHost;
  readonly #run: RunRecord;
  /** Modules whose interrupted step is re-run after a restart (checks the device before rewriting). */
  readonly #resumed: Set<string>;
  readonly #cancel = new AbortController();
  readonly #modules: Map<string, ModuleConfig>;
  /** The first storage fault of this run: the run fails and is undone. */
  #storage: { fault: StorageFault; error: StatusError } | null = null;
  /** Set when the undo itself could not be journalled: nothing touches a module any more. */
  #halt: StorageFault | null = null;
  /** An unexpected error of a job, re-thrown once every job has settled. */
  #unexpected: unknown = undefined;

  constructor(host: ExecutorHost, run: RunRecord, resumed: Iterable<string> = []) {
    this.#host = host;
    this.#run = run;
    this.#resumed = new Set(resumed);
    this.#modules = new Map(host.config.modules.map((m) => [m.id, m]));
  }

  get run(): RunRecord {
    return this.#run;
  }

  /** Non-null when the run stopped because the storage refused the writes its undo needs. */
  get halt(): StorageFault | null {
    return this.#halt;
  }

  /** Aborted by a cancel: work before the jobs (downloads) stops too. */
  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** Asks the run to stop at the next safe point and roll back what it changed. */
  async cancel(): Promise<void> {
    if (this.#run.state !== "running") return;
    this.#run.cancelRequested = true;
    await this.#host.checkpoint("cancel requested");
    this.#cancel.abort(
      new GatewayError("cancelled", `release ${this.#run.release ?? "?"}: cancelled by the operator`, {
        release: this.#run.release,
      }),
    );
  }

  async execute(): Promise<RunRecord> {
    const run = this.#run;
    if (run.cancelRequested && run.state === "running")
      this.#cancel.abort(new GatewayError("cancelled", "cancelled before the restart", {}));
    if (run.state === "running") {
      for (const job of run.jobs) this.#host.showJob(job);
      await this.#runJobs();
      if (this.#halt) return run;
      if (this.#storage) this.#skipPending(`not started: ${this.#storage.error.message}`);
      const failed = run.jobs.some((j) => j.step === "failed" || j.step === "rolled-back");
      const cancelled = this.#cancel.signal.aborted;
      if (cancelled || (failed && run.allOrNothing)) {
        run.state = "rolling-back";
        if (!(await this.#write("rolling back the run"))) return run;
      }
    }
    if (run.state === "rolling-back") await this.#rollBackRun();
    if (this.#halt) return run;
    if (run.state !== "finished") await this.#finish();
    return run;
  }

  /**
   * A journal write of the executor's own. A storage fault is not thrown: it halts the run (false),
   * since nothing may act without its journal entry.
   */
  async #write(what: string): Promise<boolean> {
    try {
      await this.#host.checkpoint(what);
      return true;
    } catch (error) {
      const fault = storageFaultOf(error);
      if (!fault) throw error;
      const first = this.#storage === null;
      await this.#storageFault(fault);
      // The run's first "disk full": the reserve was just freed, so the same write is tried once more.
      if (first && isOutOfSpace(fault)) {
        try {
          await this.#host.checkpoint(what);
          return true;
        } catch (again) {
          if (!storageFaultOf(again)) throw again;
        }
      }
      this.#halt ??= fault;
      return false;
    }
  }

  /** Records the run's first storage fault, stops new work and frees the reserve for the undo. */
  async #storageFault(fault: StorageFault): Promise<void> {
    if (!this.#storage) {
      this.#storage = {
        fault,
        error: storageStatusError(fault, "the run was stopped and what it applied is undone"),
      };
      this.#run.firstError ??= this.#storage.error;
      this.#host.log.error({ errno: fault.errno, path: fault.path }, "the state storage refused a write");
    }
    await this.#host.storageFault(fault);
  }

  #skipPending(note: string): void {
    for (const job of this.#run.jobs) {
      if (job.step !== "pending") continue;
      job.step = "skipped";
      job.note = note;
      this.#host.showJob(job);
    }
  }

  async #runJobs(): Promise<void> {
    const run = this.#run;
    const running = new Map<string, Promise<void>>();
    const limit = Math.max(1, run.maxParallel);
    // Jobs interrupted mid-step by a restart hold their bus first; an undo interrupted is finished first.
    for (const job of run.jobs) {
      if (job.step === "rolling-back") await this.#undo(job);
    }
    const start = (job: JobRecord): void => {
      running.set(
        job.module,
        this.#drive(job)
          // Every job settles before the run decides anything: none is left acting unobserved.
          .catch((error: unknown) => {
            this.#unexpected ??= error;
          })
          .finally(() => running.delete(job.module)),
      );
    };
    for (const job of run.jobs) if (isInFlight(job) && running.size < limit) start(job);
    for (;;) {
      if (!this.#cancel.signal.aborted && !this.#stopScheduling()) {
        this.#skipBlocked();
        for (const job of nextJobs(run.jobs, new Set(running.keys()), limit)) start(job);
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    if (this.#unexpected !== undefined) throw this.#unexpected as Error;
  }

  /** True once an all-or-nothing run has a failure: nothing new starts. */
  #stopScheduling(): boolean {
    if (this.#storage) return true;
    return (
      this.#run.allOrNothing && this.#run.jobs.some((j) => j.step === "failed" || j.step === "rolled-back")
    );
  }

  /** Independent runs: a job whose dependency failed will not run. */
  #skipBlocked(): void {
    const failed = new Set(
      this.#run.jobs.filter((j) => j.step === "failed" || j.step === "rolled-back").map((j) => j.module),
    );
    for (const job of this.#run.jobs) {
      const blocker = job.step === "pending" ? job.dependsOn.find((d) => failed.has(d)) : undefined;
      if (blocker === undefined) continue;
      job.step = "skipped";
      job.error = {
        code: "dependency-failed",
        message: `module ${job.module} was not updated: module ${blocker}, which it depends on, failed`,
      };
      this.#host.showJob(job);
    }
  }

  /** Runs one job to committed, with bounded retries; on failure undoes it at once. */
  async #drive(job: JobRecord): Promise<void> {
    const module = this.#modules.get(job.module)!;
    const base = this.#host.env(job, this.#cancel.signal);
    // After a storage fault a job in flight finishes its current step but starts no other: its next
    // checkpoint fails as the storage did, even when the freed reserve would take the write.
    const env = {
      ...base,
      checkpoint: (what: string): Promise<void> =>
        this.#storage
          ? Promise.reject(storageGatewayError(this.#storage.fault, "the run was stopped"))
          : base.checkpoint(what),
    };
    let resumed = this.#resumed.delete(job.module);
    for (;;) {
      job.attempts++;
      try {
        await runInstall(env, job, resumed, () => {
          if (!this.#run.commitOrder.includes(job.module)) this.#run.commitOrder.push(job.module);
        });
        this.#host.showJob(job);
        return;
      } catch (error) {
        const fault = storageFaultOf(error);
        if (fault) await this.#storageFault(fault);
        const cancelled = this.#cancel.signal.aborted;
        const retry =
          !cancelled && !this.#storage && isTransient(error, job) && job.attempts < module.attempts;
        this.#host.log.warn(
          {
            module: job.module,
            step: job.step,
            attempt: job.attempts,
            of: module.attempts,
            retry,
            err: statusError(error),
          },
          "job failed",
        );
        if (retry) {
          resumed = true;
          if (!(await this.#write(`${job.module}: attempt ${job.attempts + 1}`))) return;
          continue;
        }
        const cause: unknown = fault
          ? storageGatewayError(fault, "the run was stopped and what it applied is undone")
          : cancelled
            ? this.#cancel.signal.reason
            : error;
        job.error = moduleError(job.module, cause);
        this.#run.firstError ??= job.error;
        await this.#undo(job);
        return;
      }
    }
  }

  /**
   * Puts a job's module back on the firmware it ran before the job (`from`). A job that failed before
   * it chose a slot never wrote anything: only its status changes.
   */
  async #undo(job: JobRecord): Promise<void> {
    if (this.#halt) return;
    // After a storage fault, nothing touches a module before the journal has shown it can be written.
    if (this.#storage && !(await this.#write(`${job.module}: undo after a storage fault`))) return;
    const from = job.from;
    if (!from) {
      // Nothing was written; the module may still sit in its bootloader: start its firmware again.
      if (job.error?.code !== "bootloader-unreachable" && job.error?.code !== "wrong-device") {
        await releaseModule(this.#host.env(job, new AbortController().signal)).catch((error: unknown) => {
          this.#host.log.warn(
            { module: job.module, err: statusError(error) },
            "could not restart the module's firmware",
          );
        });
      }
      job.step = job.error ? "failed" : "skipped";
      job.note ??= "not changed";
      job.undo = null;
      if (!(await this.#write(`${job.module}: ${job.step} before writing`))) return;
      this.#host.showJob(job);
      return;
    }
    job.step = "rolling-back";
    job.undo ??= { step: "preparing", rewrite: null };
    if (!(await this.#write(`${job.module}: rolling back`))) return;
    this.#host.showJob(job);
    try {
      // Undo uses no cancel signal: once started it must finish, only the watchdogs bound it.
      await runRestore(this.#host.env(job, new AbortController().signal), {
        module: job.module,
        image: from,
        cursor: job.undo,
        // The module's record as it was before the job (whether or not the job had committed).
        commit: (draft: StoredState) => {
          draft.modules[job.module] = { confirmed: from, previous: job.previousBefore };
        },
      });
      job.step = "rolled-back";
    } catch (error) {
      const fault = storageFaultOf(error);
      if (fault) {
        // The restore stopped at a step it could not journal: it is finished once storage returns.
        await this.#storageFault(fault);
        this.#halt ??= fault;
        return;
      }
      job.step = "failed";
      job.error = moduleError(job.module, error);
      this.#run.firstError ??= job.error;
      this.#host.log.error(
        { module: job.module, err: job.error },
        "rollback failed: the module needs attention",
      );
    }
    if (!(await this.#write(`${job.module}: ${job.step}`))) return;
    this.#host.showJob(job);
  }

  /** All-or-nothing failure or cancel: undo what is in flight, then the committed modules in reverse order. */
  async #rollBackRun(): Promise<void> {
    const run = this.#run;
    for (const job of run.jobs) {
      if (isInFlight(job) || job.step === "rolling-back") await this.#undo(job);
    }
    // Reverse commit order; a committed job missing from it (impossible by construction) still goes, last.
    const committed = [...run.commitOrder].reverse().map((id) => run.jobs.find((j) => j.module === id));
    for (const job of run.jobs) if (!committed.includes(job)) committed.push(job);
    for (const job of committed) {
      if (job?.step === "committed") await this.#undo(job);
    }
    if (this.#halt) return;
    this.#skipPending(`not started: the bundle was rolled back${run.note ? ` (${run.note})` : ""}`);
  }

  async #finish(): Promise<void> {
    const run = this.#run;
    run.outcome = outcomeOf(run);
    run.state = "finished";
    run.finishedAt = new Date(this.#host.now()).toISOString();
    // Not on disk when halted here: the engine completes the run from the journal once storage returns.
    await this.#write(`run ${run.id}: ${run.outcome}`);
  }
}

function isInFlight(job: JobRecord): boolean {
  return ["preparing", "backup", "writing", "activating", "health-check", "committing"].includes(job.step);
}

/** Whether a failed job may be tried again: each error class says which of its codes are transient. */
function isTransient(error: unknown, job: JobRecord): boolean {
  if (error instanceof GatewayError) return error.transientAt(job.step);
  return (error instanceof BootloaderError || error instanceof TransportError) && error.transient;
}

function outcomeOf(run: RunRecord): BundleState {
  if (run.cancelRequested) return "cancelled";
  const steps = run.jobs.map((j) => j.step);
  if (steps.every((s) => s === "committed" || s === "skipped") && run.firstError === null) {
    return run.kind === "rollback" ? "rolled-back" : "committed";
  }
  return "failed";
}
