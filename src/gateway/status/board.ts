/**
 * The engine's status: one ModuleStatus per configured module and the GatewayStatus summary, each
 * with a monotonic `seq`. Every change is handed to `emit` (the engine turns it into events); the MQTT
 * side publishes them retained. Progress changes are throttled here, state changes never are.
 */
import type { ModuleConfig } from "../config/config.js";
import type { StatusUpdate } from "../module/job-env.js";
import { ModuleBar, ProgressThrottle } from "./progress.js";
import type { StateStore } from "../store/state-store.js";
import type {
  BundleInfo,
  GatewayStatus,
  ModuleState,
  ModuleStatus,
  RejectedBundle,
  RunSummary,
} from "./types.js";
import { SETTLED_MODULE_STATES } from "./types.js";

export interface BoardSink {
  moduleStatus(status: ModuleStatus, change: { from: ModuleStatus["state"]; progressOnly: boolean }): void;
  gatewayStatus(status: GatewayStatus): void;
}

const PROGRESS_INTERVAL_MS = 500;

export class StatusBoard {
  readonly #modules = new Map<string, ModuleStatus>();
  readonly #gateway: GatewayStatus;
  readonly #sink: BoardSink;
  readonly #now: () => number;
  readonly #throttle: ProgressThrottle;
  /** Each working module's overall bar in the current run (reset by a new run or a rollback). */
  readonly #bars = new Map<string, ModuleBar>();

  constructor(options: {
    gateway: string;
    groups: string[];
    modules: readonly ModuleConfig[];
    sink: BoardSink;
    now: () => number;
  }) {
    this.#sink = options.sink;
    this.#now = options.now;
    this.#throttle = new ProgressThrottle(PROGRESS_INTERVAL_MS, options.now);
    const at = this.#iso();
    for (const m of options.modules) {
      this.#modules.set(m.id, {
        module: m.id,
        moduleType: m.type,
        state: "idle",
        version: null,
        activeSlot: null,
        targetVersion: null,
        progress: null,
        remainingSeconds: null,
        release: null,
        sequence: null,
        verification: null,
        lastFlash: null,
        lastError: null,
        note: null,
        seq: 0,
        updatedAt: at,
      });
    }
    this.#gateway = {
      gateway: options.gateway,
      groups: [...options.groups],
      online: true,
      bundle: null,
      modules: {},
      lastSequence: 0,
      lastRejected: null,
      stateAlert: null,
      lastRun: null,
      seq: 0,
      updatedAt: at,
    };
  }

  /** Takes versions and slots from the state store (at start and after each commit). */
  syncFromState(state: StateStore): void {
    for (const [id, status] of this.#modules) {
      const confirmed = state.module(id).confirmed;
      // No record (yet): keep what reconciliation learned from the module itself, which a state disk
      // that took no writes could not record (reconcile/reconciler.ts, recordLearned).
      if (!confirmed) continue;
      status.version = confirmed.version;
      status.activeSlot = confirmed.slot;
      status.release = confirmed.release ?? status.release;
      status.sequence = confirmed.sequence ?? status.sequence;
    }
    this.#gateway.lastSequence = state.get().lastSequence;
  }

  module(id: string): ModuleStatus | undefined {
    return this.#modules.get(id);
  }

  modules(): ModuleStatus[] {
    return [...this.#modules.values()].map((s) => ({ ...s }));
  }

  gateway(): GatewayStatus {
    return { ...this.#gateway, modules: this.#summary() };
  }

  /** Applies an update; emits unless it is a progress-only change the throttle holds back. */
  update(
    id: string,
    update: StatusUpdate & {
      release?: string | null;
      sequence?: number | null;
      activeSlot?: ModuleStatus["activeSlot"];
    },
  ): void {
    const status = this.#modules.get(id);
    if (!status) return;
    const from = status.state;
    const stateChanged = update.state !== undefined && update.state !== status.state;
    if (update.state !== undefined && stateChanged && startsBar(update.state)) this.#bars.delete(id);
    if (update.progress) {
      let bar = this.#bars.get(id);
      if (!bar) this.#bars.set(id, (bar = new ModuleBar(this.#now)));
      const mapped = bar.map(update.progress, update.remainingSeconds);
      update = { ...update, progress: mapped.progress, remainingSeconds: mapped.remainingSeconds };
    }
    if (update.state !== undefined && SETTLED_MODULE_STATES.has(update.state)) this.#bars.delete(id);
    const defined = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    Object.assign(status, defined);
    if (stateChanged && update.progress === undefined && !isWorking(status.state)) {
      status.progress = null;
      status.remainingSeconds = null;
    }
    const progressOnly =
      !stateChanged && Object.keys(defined).every((k) => k === "progress" || k === "remainingSeconds");
    if (
      progressOnly &&
      status.progress &&
      !this.#throttle.pass(id, status.progress.phase, status.progress.percent)
    )
      return;
    if (!progressOnly) this.#throttle.reset(id);
    status.seq++;
    status.updatedAt = this.#iso();
    this.#sink.moduleStatus({ ...status }, { from, progressOnly });
    if (stateChanged) this.#publishGateway();
  }

  /** Re-emits every module's status (start-up). */
  emitAll(): void {
    for (const status of this.#modules.values()) {
      status.seq++;
      status.updatedAt = this.#iso();
      this.#sink.moduleStatus({ ...status }, { from: status.state, progressOnly: false });
    }
    this.#publishGateway();
  }

  setBundle(bundle: BundleInfo | null): void {
    this.#gateway.bundle = bundle ? { ...bundle } : null;
    this.#publishGateway();
  }

  /** What the last run did (bundle, retry or rollback), shown as the gateway's summary line. */
  setLastRun(run: RunSummary | null): void {
    this.#gateway.lastRun = run ? { ...run } : null;
    this.#publishGateway();
  }

  setRejected(rejected: RejectedBundle): void {
    this.#gateway.lastRejected = { ...rejected };
    this.#publishGateway();
  }

  /** Why bundles are refused until acknowledged (null: they are not). */
  setStateAlert(alert: GatewayStatus["stateAlert"]): void {
    this.#gateway.stateAlert = alert && {
      code: alert.code,
      message: alert.message,
      context: alert.context ?? {},
    };
    this.#publishGateway();
  }

  setLastSequence(sequence: number): void {
    this.#gateway.lastSequence = sequence;
  }

  #publishGateway(): void {
    this.#gateway.seq++;
    this.#gateway.updatedAt = this.#iso();
    this.#sink.gatewayStatus(this.gateway());
  }

  #summary(): GatewayStatus["modules"] {
    return Object.fromEntries(
      [...this.#modules.values()].map((s) => [
        s.module,
        { state: s.state, version: s.version, activeSlot: s.activeSlot },
      ]),
    );
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function isWorking(state: ModuleStatus["state"]): boolean {
  return (
    state === "downloading" ||
    state === "backing-up" ||
    state === "erasing" ||
    state === "writing" ||
    state === "verifying"
  );
}

/** Entering these starts a new bar: a new run queues the module; a rollback is a story of its own. */
function startsBar(state: ModuleState): boolean {
  return state === "queued" || state === "rolling-back";
}
