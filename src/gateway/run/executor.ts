/**
 * Executes one run (bundle, retry or rollback command) from its journalled record, fresh or after a
 * restart: schedules the jobs (one per bus, buses in parallel, within the parallelism limit, after their
 * dependencies), retries transient failures a bounded number of times, undoes a failed job at once,
 * and applies the bundle policy: all-or-nothing rolls back every module already committed, in reverse
 * commit order; a cancel stops at the next safe point and does the same.
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
import type { BundleState } from "../status/types.js";

export interface ExecutorHost {
  config: GatewayConfig;
  log: Logger;
  /** A job environment for one module; `signal` aborts its steps. */
  env(job: JobRecord, signal: AbortSignal): JobEnv;
  checkpoint(what: string): Promise<void>;
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

  constructor(host: ExecutorHost, run: RunRecord, resumed: Iterable<string> = []) {
    this.#host = host;
    this.#run = run;
    this.#resumed = new Set(resumed);
    this.#modules = new Map(host.config.modules.map((m) => [m.id, m]));
  }

  get run(): RunRecord {
    return this.#run;
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
      const failed = run.jobs.some((j) => j.step === "failed" || j.step === "rolled-back");
      if (this.#cancel.signal.aborted || (failed && run.allOrNothing)) {
        run.state = "rolling-back";
        await this.#host.checkpoint("rolling back the run");
      }
    }
    if (run.state === "rolling-back") await this.#rollBackRun();
    if (run.state !== "finished") await this.#finish();
    return run;
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
        this.#drive(job).finally(() => running.delete(job.module)),
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
  }

  /** True once an all-or-nothing run has a failure: nothing new starts. */
  #stopScheduling(): boolean {
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
    const env = this.#host.env(job, this.#cancel.signal);
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
        const cancelled = this.#cancel.signal.aborted;
        const retry = !cancelled && isTransient(error, job) && job.attempts < module.attempts;
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
          await this.#host.checkpoint(`${job.module}: attempt ${job.attempts + 1}`);
          continue;
        }
        job.error = moduleError(job.module, cancelled ? this.#cancel.signal.reason : error);
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
      await this.#host.checkpoint(`${job.module}: ${job.step} before writing`);
      this.#host.showJob(job);
      return;
    }
    job.step = "rolling-back";
    job.undo ??= { step: "preparing", rewrite: null };
    await this.#host.checkpoint(`${job.module}: rolling back`);
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
      job.step = "failed";
      job.error = moduleError(job.module, error);
      this.#run.firstError ??= job.error;
      this.#host.log.error(
        { module: job.module, err: job.error },
        "rollback failed: the module needs attention",
      );
    }
    await this.#host.checkpoint(`${job.module}: ${job.step}`);
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
    for (const job of run.jobs) {
      if (job.step !== "pending") continue;
      job.step = "skipped";
      job.note = `not started: the bundle was rolled back${run.note ? ` (${run.note})` : ""}`;
      this.#host.showJob(job);
    }
  }

  async #finish(): Promise<void> {
    const run = this.#run;
    run.outcome = outcomeOf(run);
    run.state = "finished";
    run.finishedAt = new Date(this.#host.now()).toISOString();
    await this.#host.checkpoint(`run ${run.id}: ${run.outcome}`);
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
