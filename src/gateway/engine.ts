/**
 * The gateway's update engine: takes signed bundles and commands, runs them module by module with a
 * crash-safe journal, and reports every module's status. It knows nothing of MQTT (src/mqtt
 * feeds it and publishes what it emits) and nothing of whether its modules are real or simulated (the
 * TargetFactory decides).
 *
 * One run at a time: a bundle or command arriving while one runs is refused with "busy" (except
 * cancel). Start-up finds an unfinished run in the journal and resumes it or rolls it back
 * (recovery.ts), saying which in each module's status note.
 */
import { loadTrustStore, type TrustStore } from "../signing/index.js";
import { TypedEmitter } from "../util/events.js";
import { SerialQueue } from "../util/serial-queue.js";
import { describeError } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { openStateDirectory } from "./store/state-dir.js";
import { GatewayError } from "./errors.js";
import { intakeBundle, type IntakeContext } from "./intake/bundle-intake.js";
import { liftedBy } from "./intake/quarantine.js";
import {
  decideCommand,
  verifySignedCommand,
  type CommandContext,
  type CommandOutcome,
} from "./intake/commands.js";
import { portOf, type GatewayConfig } from "./config/config.js";
import { createDefaultTargetFactory } from "./module/default-targets.js";
import { fetchRunImages } from "./run/downloads.js";
import { HaltGate } from "./run/halt.js";
import { insideWindow, waitForWindow } from "./run/window.js";
import { ImageStore } from "./store/image-store.js";
import { Journal, type JournalHook } from "./store/journal.js";
import { ModuleLink } from "./module/link.js";
import { prepareRecovery } from "./run/recovery.js";
import { RunExecutor } from "./run/executor.js";
import { createRunHost, jobStatus, type RunHostParts } from "./run/host.js";
import type { RunRecord } from "./run/types.js";
import { StateStore } from "./store/state-store.js";
import { SpaceReserve } from "./store/reserve.js";
import { storageFaultOf, storageStatusError } from "./store/storage-fault.js";
import { haltError } from "./run/storage-halt.js";
import { StorageWatch } from "./run/storage-watch.js";
import { RetryScheduler } from "./run/retry-scheduler.js";
import { recordRunEnd } from "./run/run-end.js";
import { FloorsFile } from "./store/floors.js";
import { acknowledgeState, guardState } from "./intake/state-guard.js";
import { reconcileModules } from "./reconcile/reconciler.js";
import { reportFindings } from "./reconcile/report.js";
import { rewindLostRun } from "./reconcile/lost-journal.js";
import type { ModuleFinding } from "./reconcile/findings.js";
import { StatusBoard } from "./status/board.js";
import { boardEvents } from "./status/board-events.js";
import { summariseRun } from "./status/run-summary.js";
import type {
  GatewayEvent,
  GatewayEventDraft,
  GatewayStatus,
  ModuleStatus,
  StatusError,
  StatusErrorCode,
} from "./status/types.js";
import { buildInventory, type GatewayInventory } from "./status/inventory.js";
import type { TargetFactory } from "./module/targets.js";

export type { CommandOutcome } from "./intake/commands.js";
export type { GatewayEvent } from "./status/types.js";
export type { ModuleFinding } from "./reconcile/findings.js";

export interface EngineEvents {
  "module-status": [ModuleStatus];
  "gateway-status": [GatewayStatus];
  event: [GatewayEvent];
}

export const DEFAULT_MAX_PENDING_BUNDLES = 8;

/** Longest wait at stop for bundles and commands being verified to get their answer. */
const STOP_DRAIN_MS = 5_000;

export type BundleOutcome =
  | { ok: true; status: "accepted"; release: string; sequence: number; modules: string[]; upToDate: string[] }
  | {
      ok: false;
      status: "rejected";
      code: StatusErrorCode;
      message: string;
      error: StatusError;
      release: string | null;
      sequence: number | null;
    };

export type CrashPoint = "bundle-verified";

export interface EngineOptions {
  config: GatewayConfig;
  logger?: Logger;
  targets?: TargetFactory;
  now?: () => number;
  /** The trust store; default: loaded from `config.trustStore` at start. */
  trust?: TrustStore;
  /**
   * Called after each durable journal write. Return "halt" to freeze the engine right there, as if
   * the process had been killed (crash tests): nothing more is written or sent, its ports are closed.
   */
  journalHook?: (info: Parameters<JournalHook>[0]) => void | "halt" | Promise<void | "halt">;
  /** Crash tests: a gate they can halt at any instant (mid-write), freezing the engine as a kill would. */
  haltGate?: HaltGate;
  /** How often a bundle waiting for its maintenance window looks at the clock. Default 15 s. */
  windowPollMs?: number;
  /**
   * Crash tests of the daemon process: called at named points that have no journal write of their
   * own (`bundle-verified`: received and verified, not yet journalled); the daemon SIGKILLs itself
   * there when SUBFLASH_TEST_KILL_AT names the point.
   */
  crashPoint?: (point: CrashPoint) => void;
  /**
   * Most bundles waiting for verification; more are refused at once with `intake-full`. Keep it
   * under the broker's in-flight window (Mosquitto `max_inflight_messages`, default 20), since
   * waiting bundles are not yet acknowledged and commands must still get through.
   */
  maxPendingBundles?: number;
  /**
   * The operator's acknowledgement that state.json was lost or that the two copies of the floors
   * disagreed (`daemon --accept-state-loss`): the highest floors any evidence shows are kept and
   * bundles are accepted again (intake/state-guard.ts).
   */
  acceptStateLoss?: boolean;
  /** Tests: overrides `storage.checkSeconds` (reserve re-creation, retries of a storage-halted run). */
  storageCheckMs?: number;
}

export class UpdateEngine extends TypedEmitter<EngineEvents> {
  readonly #config: GatewayConfig;
  readonly #log: Logger;
  readonly #targets: TargetFactory;
  readonly #now: () => number;
  readonly #gate: HaltGate;
  readonly #options: EngineOptions;
  #parts: (RunHostParts & { trust: TrustStore }) | undefined;
  #executor: RunExecutor | null = null;
  #lastRun: RunRecord | null = null;
  #work: Promise<void> = Promise.resolve();
  readonly #bundleQueue = new SerialQueue();
  readonly #commandQueue = new SerialQueue();
  /** Taken to decide, journal and start a run: bundles and commands meet only here, briefly. */
  readonly #decisions = new SerialQueue();
  readonly #maxPendingBundles: number;
  #pendingBundles = 0;
  #shedCount = 0;
  /** Why bundles are refused until an operator acknowledges (state-lost, state-disagrees). */
  #stateAlert: StatusError | null = null;
  #lastShedStatusAt = -Infinity;
  #stopped = false;
  #reconcileTimer: NodeJS.Timeout | undefined;
  /** The space reserve and runs halted by the state storage (run/storage-watch.ts). */
  readonly #storage: StorageWatch;
  /** Automatic attempts, crash loops and quarantine of a failed bundle (run/retry-scheduler.ts). */
  readonly #retry: RetryScheduler;
  #markStopped!: () => void;
  readonly #stoppedSignal = new Promise<void>((resolve) => (this.#markStopped = resolve));

  constructor(options: EngineOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.#log = (options.logger ?? silentLogger).child({
      component: "engine",
      gateway: options.config.gateway.id,
    });
    this.#targets = options.targets ?? createDefaultTargetFactory(this.#log);
    this.#now = options.now ?? Date.now;
    this.#gate = options.haltGate ?? new HaltGate();
    this.#maxPendingBundles = options.maxPendingBundles ?? DEFAULT_MAX_PENDING_BUNDLES;
    this.#storage = new StorageWatch({
      log: this.#log,
      reserveBytes: this.#config.storage.reserveBytes,
      checkMs: () => this.#options.storageCheckMs ?? this.#config.storage.checkSeconds * 1000,
      stopped: this.#stoppedSignal,
      emitEvent: (event) => this.#emitEvent(event),
      finished: (run) => this.#finished(run),
      startRun: (run, resumed) => this.#startRun(run, resumed),
    });
    this.#retry = new RetryScheduler({
      parts: () => this.#started(),
      log: this.#log,
      now: this.#now,
      decisions: this.#decisions,
      stopped: () => this.#stopped,
      busy: () => this.#busyRefusal() !== null,
      lastRun: () => this.#lastRun,
      commandContext: () => this.#commandContext(this.#started()),
      startRun: (run) => this.#startRun(run),
      emitEvent: (event) => this.#emitEvent(event),
    });
  }

  /** Loads state and journal, recovers an unfinished run (resume or roll back), emits every module's status. */
  async start(): Promise<void> {
    const config = this.#config;
    // Cheapest checks first, each naming the file and field it is about (issue 10, defect 1).
    const trust = this.#options.trust ?? (await loadTrust(config.trustStore));
    await openStateDirectory(config.stateDir);
    const state = await StateStore.open(config.stateDir, this.#gate);
    const images = new ImageStore(config.stateDir, this.#gate);
    await images.init();
    const reserve = new SpaceReserve(config.stateDir, config.storage.reserveBytes, this.#gate);
    // A full disk at start-up is no reason not to start (and report): the timer below tries again.
    await reserve.ensure().catch((error: unknown) => this.#storage.reserveMissing(error));
    const hook = this.#options.journalHook;
    const journal = new Journal(
      config.stateDir,
      this.#gate,
      hook && (async (info) => ((await hook(info)) === "halt" ? this.#gate.halt() : undefined)),
    );
    const board = new StatusBoard({
      gateway: config.gateway.id,
      groups: config.gateway.groups,
      modules: config.modules,
      now: this.#now,
      sink: boardEvents({
        moduleStatus: (status) => this.emit("module-status", status),
        gatewayStatus: (status) => this.emit("gateway-status", status),
        event: (event) => this.#emitEvent(event),
      }),
    });
    board.syncFromState(state);
    const links = new Map(
      config.modules.map((m) => [
        m.id,
        new ModuleLink(m, this.#targets, this.#gate, this.#log.child({ module: m.id, port: portOf(m) })),
      ]),
    );
    this.#parts = {
      config,
      log: this.#log,
      state,
      images,
      journal,
      reserve,
      board,
      links,
      now: this.#now,
      trust,
    };
    this.#lastRun = await journal.load();
    this.#stateAlert = await guardState({
      state,
      floorsFile: new FloorsFile(config.state.mirrorDir ?? config.stateDir, this.#gate),
      lastRun: this.#lastRun,
      imagesDir: images.dir,
      acknowledged: this.#options.acceptStateLoss === true,
      log: this.#log,
      now: this.#now,
    });
    // No journal: a bundle state.json shows unfinished is undone, then every module reconciled.
    const lost = this.#lastRun ? null : await rewindLostRun(state, journal.path, this.#now(), this.#log);
    board.syncFromState(state);
    board.setStateAlert(this.#stateAlert);
    const lastBundle = state.get().lastBundle;
    if (lastBundle?.release && lastBundle.sequence !== null)
      board.setBundle({ ...lastBundle, release: lastBundle.release, sequence: lastBundle.sequence });
    const last = this.#lastRun;
    if (last) board.setLastRun(summariseRun(last));
    this.#retry.showQuarantine();
    const recovery = last && (await prepareRecovery(this.#parts, last));
    if (last?.state === "finished") {
      // Show how the last run left each module, and finish its bookkeeping if a kill interrupted it.
      for (const job of last.jobs) board.update(job.module, jobStatus(job));
      if (state.get().lastRunId !== last.id) await this.#finished(last);
    }
    board.emitAll();
    // An unfinished run checks its modules itself as it resumes; otherwise compare records and modules now.
    if (!recovery && (config.reconcile.atStart || lost)) await this.#reconcileNow();
    const every = config.reconcile.intervalMinutes;
    if (every !== undefined) {
      this.#reconcileTimer = setInterval(() => void this.reconcile(), every * 60_000);
      this.#reconcileTimer.unref();
    }
    this.#storage.watchReserve(reserve, () => !this.#executor && !this.#stopped);
    if (!recovery) this.#retry.schedule();
    if (recovery?.decision === "resume") await this.#retry.crashLoopGuard(recovery.run);
    if (recovery) {
      this.#log.warn(
        { run: recovery.run.id, decision: recovery.decision, modules: recovery.resumed },
        "unfinished run found at start",
      );
      this.#startRun(recovery.run, recovery.resumed);
    }
  }

  /**
   * Verifies and plans a bundle; resolves once it is accepted (journalled; the run goes on in the
   * background) or refused. Never throws: every failure is a named refusal on `events` and
   * `lastRejected` (issue 10, defect 9). Bundles wait in a bounded queue of their own; past
   * `maxPendingBundles` the excess is refused at once with `intake-full` (defect 6).
   */
  submitBundle(bytes: Uint8Array, via: { topic?: string } = {}): Promise<BundleOutcome> {
    this.#started();
    if (this.#pendingBundles >= this.#maxPendingBundles) {
      return Promise.resolve(
        this.#shed(
          {
            code: "intake-full",
            message: `${this.#pendingBundles} bundles are already waiting for verification; this one was shed`,
            context: { limit: this.#maxPendingBundles },
          },
          null,
          null,
          via.topic,
        ),
      );
    }
    this.#pendingBundles++;
    return this.#bundleQueue
      .run(() => this.#intakeOne(bytes, via))
      .catch((error: unknown) => this.#reject(intakeFailure(error), null, null, via.topic))
      .finally(() => this.#pendingBundles--);
  }

  async #intakeOne(bytes: Uint8Array, via: { topic?: string }): Promise<BundleOutcome> {
    // Verification is CPU work with no I/O of its own: yield between bundles, so a command's file
    // writes and the MQTT socket get their turn during a flood.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const parts = this.#started();
    const refusal = this.#busyRefusal();
    if (refusal) return this.#reject(refusal, null, null, via.topic);
    const result = await intakeBundle(this.#intakeContext(parts), bytes);
    if (!result.ok) return this.#reject(result.error, result.release, result.sequence, via.topic);
    const { run } = result;
    // Decide and journal under the lock commands also take: a rollback command accepted while this
    // bundle was being verified must not start a second run beside it.
    return this.#decisions.run(async (): Promise<BundleOutcome> => {
      const late = this.#busyRefusal();
      if (late) return this.#reject(late, run.release, run.sequence, via.topic);
      this.#options.crashPoint?.("bundle-verified");
      // No run starts without its space reserve: a disk that fills up mid-run must leave room to undo.
      await parts.reserve.ensure();
      // The journal is the commitment: once it is written the run happens (now, or after a restart).
      await parts.journal.write(run, "bundle accepted");
      try {
        await parts.state.update((draft) => {
          draft.lastSequence = Math.max(draft.lastSequence, run.sequence ?? 0);
          // A newer sequence ends the back-off and quarantine of the older one.
          draft.attempts = liftedBy(draft.attempts ?? null, run.sequence);
        });
      } catch (error) {
        // The journalled run still carries its sequence, which start-up counts as evidence.
        this.#log.warn(
          { err: describeError(error), sequence: run.sequence },
          "state update failed after journalling",
        );
      }
      parts.board.setLastSequence(Math.max(parts.state.get().lastSequence, run.sequence ?? 0));
      this.#log.info(
        {
          release: run.release,
          sequence: run.sequence,
          modules: run.jobs.map((j) => j.module),
          topic: via.topic,
        },
        "bundle accepted",
      );
      this.#startRun(run);
      return {
        ok: true,
        status: "accepted",
        release: run.release!,
        sequence: run.sequence!,
        modules: run.jobs.map((j) => j.module),
        upToDate: result.upToDate,
      };
    });
  }

  #busyRefusal(): StatusError | null {
    if (this.#stateAlert) return this.#stateAlert;
    if (this.#storage.halt) return this.#storage.halt;
    if (this.#stopped) return { code: "stopped", message: "the engine is stopping" };
    if (this.#executor)
      return { code: "busy", message: `a run is in progress (${this.#executor.run.release ?? "rollback"})` };
    return null;
  }

  /**
   * Verifies and carries out a signed command; resolves with the response payload. Commands have a
   * path of their own, never queued behind bundles (issue 10, defect 6): a cancel is answered while
   * a flood of bundles waits.
   */
  submitCommand(bytes: Uint8Array): Promise<CommandOutcome> {
    return this.#commandQueue.run(async () => {
      try {
        return await this.#commandOne(bytes);
      } catch (error) {
        const failure = intakeFailure(error);
        return this.#commandEvent({
          ok: false,
          status: "error",
          command: null,
          modules: [],
          code: failure.code,
          message: failure.message,
          error: failure,
        });
      }
    });
  }

  async #commandOne(bytes: Uint8Array): Promise<CommandOutcome> {
    const parts = this.#started();
    const ctx = this.#commandContext(parts);
    const verified = verifySignedCommand(ctx, bytes);
    if (!verified.ok) return this.#commandEvent(verified.outcome);
    const { command } = verified;
    return this.#decisions.run(async () => {
      await parts.state.update((draft) => {
        draft.lastCommandSequence = Math.max(draft.lastCommandSequence, command.sequence);
      });
      if (this.#stopped) {
        return this.#commandEvent({
          ok: false,
          status: "error",
          command: command.kind,
          modules: [],
          code: "stopped",
          message: "the engine is stopping",
          error: { code: "stopped", message: "the engine is stopping" },
        });
      }
      const decision = decideCommand(ctx, command);
      if (decision.kind === "cancel") await this.#executor?.cancel();
      if (decision.kind === "acknowledge") await this.#acknowledged();
      // A signed retry lifts a quarantine and starts a fresh count; a rollback (accepted or not) means
      // the operator wants the failed bundle left alone: no more automatic attempts (quarantine.ts).
      if (command.kind === "rollback" || (command.kind === "retry" && decision.kind === "start"))
        await parts.state.update((draft) => {
          const book = draft.attempts ?? null;
          draft.attempts =
            command.kind === "retry" ? liftedBy(book, null) : book && { ...book, nextAttemptAt: null };
        });
      if (command.kind === "rollback") this.#retry.cancel();
      if (decision.kind === "start") {
        await parts.reserve.ensure();
        await parts.journal.write(decision.run, `${command.kind} accepted`);
        this.#startRun(decision.run);
      }
      this.#log.info(
        { command: command.kind, sequence: command.sequence, ok: decision.outcome.ok },
        "command handled",
      );
      return this.#commandEvent(decision.outcome);
    });
  }

  /** A signed acknowledge-state: the floors stay the highest, bundles are accepted again. */
  async #acknowledged(): Promise<void> {
    const parts = this.#started();
    await acknowledgeState(parts.state);
    this.#log.warn({ alert: this.#stateAlert?.code }, "state alert acknowledged by a signed command");
    this.#stateAlert = null;
    parts.board.setStateAlert(null);
    this.#retry.schedule();
  }

  /**
   * Checks every module against the gateway's records now (reconcile/reconciler.ts); resolves with
   * the findings, or null when a run is in progress or the engine stops (the run checks its modules).
   */
  reconcile(): Promise<ModuleFinding[] | null> {
    return this.#bundleQueue.run(async () => {
      if (this.#stopped || this.#executor) return null;
      return this.#reconcileNow();
    });
  }

  async #reconcileNow(): Promise<ModuleFinding[]> {
    const parts = this.#started();
    const lastRun = this.#lastRun;
    const findings = await reconcileModules({ ...parts, lastRun });
    reportFindings(findings, parts.board, parts.state, (event) => this.#emitEvent(event));
    return findings;
  }

  moduleStatuses(): ModuleStatus[] {
    return this.#parts?.board.modules() ?? [];
  }

  gatewayStatus(): GatewayStatus {
    return this.#started().board.gateway();
  }

  /** Whether start() completed (a failed start leaves nothing to report a status from). */
  get started(): boolean {
    return this.#parts !== undefined;
  }

  /** What this gateway is and holds (the retained inventory of the MQTT contract). */
  inventory(): GatewayInventory {
    const status = this.gatewayStatus();
    const bundle = status.bundle && {
      release: status.bundle.release,
      sequence: status.bundle.sequence,
      state: status.bundle.state,
    };
    return buildInventory(
      this.#config,
      this.moduleStatuses(),
      { lastSequence: status.lastSequence, bundle },
      this.#now(),
    );
  }

  /** Resolves when no bundle or command work is running (or the engine was stopped). */
  async idle(): Promise<void> {
    for (;;) {
      const work = this.#work;
      await Promise.race([
        Promise.all([this.#bundleQueue.idle(), this.#commandQueue.idle(), work]),
        this.#stoppedSignal,
      ]);
      if (this.#stopped || (work === this.#work && this.#pendingBundles === 0)) return;
    }
  }

  /**
   * Refuses new bundles and commands, lets those being verified get their answer (at most
   * STOP_DRAIN_MS), then stops the run in progress where it stands, as a kill would: no further journal
   * write or device action, ports closed. The next start resumes it (or rolls it back) from the
   * journal, which is what makes stopping anywhere safe.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#reconcileTimer);
    this.#storage.stop();
    this.#retry.cancel();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.#bundleQueue.idle(), this.#commandQueue.idle()]),
      new Promise((resolve) => (timer = setTimeout(resolve, STOP_DRAIN_MS))),
    ]);
    clearTimeout(timer);
    this.#gate.halt();
    this.#markStopped();
    for (const link of this.#parts?.links.values() ?? []) await link.dispose();
    this.#log.info({ running: this.#executor?.run.id ?? null }, "engine stopped");
  }

  #startRun(run: RunRecord, resumed: readonly string[] = []): void {
    const parts = this.#started();
    this.#retry.cancel();
    this.#lastRun = run;
    const executor = new RunExecutor(createRunHost(parts, run), run, resumed);
    this.#executor = executor;
    // A rollback command is not a bundle: the gateway status keeps describing the last bundle.
    if (run.release !== null)
      parts.board.setBundle({
        release: run.release,
        sequence: run.sequence ?? 0,
        state: "running",
        error: null,
        startedAt: run.startedAt,
        finishedAt: null,
      });
    parts.board.setLastRun(summariseRun(run));
    this.#emitEvent({
      type: "bundle",
      state: "running",
      release: run.release,
      sequence: run.sequence,
      error: null,
      note: run.note,
    });
    for (const job of run.jobs) if (job.step === "pending") parts.board.update(job.module, jobStatus(job));
    this.#work = (async () => {
      await this.#maintenanceWindow(run, executor.signal);
      await fetchRunImages(parts, run, executor.signal, this.#config);
      await executor.execute();
      if (executor.halt) throw storageFaultError(executor.halt);
      await this.#finished(run);
    })()
      .catch((error: unknown) => {
        const fault = storageFaultOf(error);
        if (fault && !this.#gate.halted && !this.#stopped)
          return this.#storage
            .storageHalted(parts, run, haltError(fault))
            .catch((e: unknown) =>
              this.#log.error(
                { err: describeError(e), run: run.id },
                "a storage-halted run could not be undone",
              ),
            );
        if (!this.#gate.halted)
          this.#log.error({ err: describeError(error), run: run.id }, "run stopped by an unexpected error");
      })
      .finally(() => {
        if (this.#executor === executor) this.#executor = null;
      });
  }

  /** Holds a bundle run that has not touched any module until a maintenance window opens (run/window.ts). */
  async #maintenanceWindow(run: RunRecord, signal: AbortSignal): Promise<void> {
    const windows = this.#config.maintenanceWindows;
    if (run.kind !== "bundle" || run.release === null || !run.jobs.every((j) => j.step === "pending")) return;
    if (insideWindow(windows, this.#now())) return;
    const parts = this.#started();
    const bundle = {
      release: run.release,
      sequence: run.sequence ?? 0,
      error: null,
      startedAt: run.startedAt,
    };
    parts.board.setBundle({ ...bundle, state: "waiting-for-window", finishedAt: null });
    this.#emitEvent({
      type: "bundle",
      state: "waiting-for-window",
      release: run.release,
      sequence: run.sequence,
      error: null,
      note: "waiting for a maintenance window",
    });
    this.#log.info({ release: run.release, windows }, "bundle waits for its maintenance window");
    await waitForWindow(windows, signal, this.#now, this.#options.windowPollMs, () => this.#stopped);
    if (!signal.aborted) parts.board.setBundle({ ...bundle, state: "running", finishedAt: null });
  }

  async #finished(run: RunRecord): Promise<void> {
    const parts = this.#started();
    await recordRunEnd(parts, run);
    parts.board.syncFromState(parts.state);
    if (run.release !== null) {
      parts.board.setBundle({
        release: run.release,
        sequence: run.sequence ?? 0,
        state: run.outcome,
        error: run.firstError,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
      });
    }
    parts.board.setLastRun(summariseRun(run));
    this.#log.info(
      { run: run.id, kind: run.kind, release: run.release, outcome: run.outcome, error: run.firstError },
      "run finished",
    );
    const book = parts.state.get().attempts;
    const next = book?.sequence === run.sequence ? book?.nextAttemptAt : null;
    this.#emitEvent({
      type: "bundle",
      state: run.outcome,
      release: run.release,
      sequence: run.sequence,
      error: run.firstError,
      note: next
        ? `attempt ${book!.failures} of ${this.#config.retry.attempts} failed; next attempt at ${next}`
        : null,
    });
    this.#retry.showQuarantine(true);
    this.#retry.schedule();
  }

  #reject(
    error: StatusError,
    release: string | null,
    sequence: number | null,
    topic: string | undefined,
  ): BundleOutcome {
    const parts = this.#started();
    this.#log.warn({ code: error.code, reason: error.message, release, sequence, topic }, "bundle refused");
    const at = new Date(this.#now()).toISOString();
    // `bundle` keeps showing the last bundle that ran (or runs); the refusal shows beside it.
    parts.board.setRejected({ release, sequence, error, topic: topic ?? null, at });
    this.#emitEvent({ type: "rejected", release, sequence, error });
    return refusal(error, release, sequence);
  }

  /**
   * A shed bundle: its own `rejected` event, but the retained `lastRejected` (a status publish) at
   * most once a second, so that shedding stays cheaper than receiving during a flood.
   */
  #shed(error: StatusError, release: null, sequence: null, topic: string | undefined): BundleOutcome {
    const now = this.#now();
    this.#shedCount++;
    if (now - this.#lastShedStatusAt >= 1000) {
      this.#lastShedStatusAt = now;
      return this.#reject(
        { ...error, context: { ...error.context, shedSoFar: this.#shedCount } },
        release,
        sequence,
        topic,
      );
    }
    this.#emitEvent({ type: "rejected", release, sequence, error });
    return refusal(error, release, sequence);
  }

  #commandEvent(outcome: CommandOutcome): CommandOutcome {
    this.#emitEvent({
      type: "command",
      command: outcome.command ?? "unknown",
      error: outcome.ok ? null : outcome.error,
      note: outcome.message,
    });
    return outcome;
  }

  #emitEvent(event: GatewayEventDraft): void {
    this.emit("event", { ...event, at: new Date(this.#now()).toISOString() });
  }

  #intakeContext(parts: RunHostParts & { trust: TrustStore }): IntakeContext {
    return {
      config: this.#config,
      trust: parts.trust,
      state: parts.state,
      images: parts.images,
      now: this.#now,
    };
  }

  #commandContext(parts: RunHostParts & { trust: TrustStore }): CommandContext {
    return {
      config: this.#config,
      trust: parts.trust,
      state: parts.state,
      now: this.#now,
      current: () => this.#executor?.run ?? null,
      last: () => this.#lastRun,
      stateAlert: () => this.#stateAlert,
    };
  }

  #started(): RunHostParts & { trust: TrustStore } {
    if (!this.#parts) throw new Error("UpdateEngine: call start() first");
    return this.#parts;
  }
}

/** The trust store, or a GatewayError naming the file and the field at fault. */
async function loadTrust(path: string): Promise<TrustStore> {
  try {
    return await loadTrustStore(path);
  } catch (error) {
    const message = describeError(error);
    throw new GatewayError(
      "trust-store-invalid",
      message.includes(path) ? message : `trust store ${path}: ${message}`,
      { file: path, field: "trustStore" },
      { cause: error },
    );
  }
}

/**
 * An intake that threw (storage refused a write, or a bug) as a named refusal. A full, read-only or
 * failing state file system is `storage-unavailable`, with the errno (issue 10, defect 9).
 */
function intakeFailure(error: unknown): StatusError {
  const fault = storageFaultOf(error);
  if (fault) return storageStatusError(fault, "refused; nothing of it was journalled");
  return { code: error instanceof GatewayError ? error.code : "internal", message: describeError(error) };
}

function storageFaultError(fault: ReturnType<typeof storageFaultOf> & object): GatewayError {
  return new GatewayError("storage-unavailable", `storage halted the run (${fault.errno})`, { ...fault });
}

/** The outcome of a refused bundle (the caller has already reported it). */
function refusal(error: StatusError, release: string | null, sequence: number | null): BundleOutcome {
  return {
    ok: false,
    status: "rejected",
    code: error.code,
    message: error.message,
    error,
    release,
    sequence,
  };
}
