/**
 * The glue between a run and the rest of the engine: job environments (module link, stores, a
 * journal checkpoint, status reporting) and how a job's step shows in its module's status.
 */
import type { Logger } from "../../util/logger.js";
import type { GatewayConfig, ModuleConfig } from "../config/config.js";
import { moduleDevice, portOf } from "../config/config.js";
import type { ImageStore } from "../store/image-store.js";
import type { JobEnv, StatusUpdate } from "../module/job-env.js";
import type { Journal } from "../store/journal.js";
import type { SpaceReserve } from "../store/reserve.js";
import type { ModuleLink } from "../module/link.js";
import type { ExecutorHost } from "./executor.js";
import type { JobRecord, RunRecord } from "./types.js";
import type { StateStore } from "../store/state-store.js";
import type { StatusBoard } from "../status/board.js";
import type { ModuleState } from "../status/types.js";
import { isOlderRelease } from "../status/release-order.js";

export interface RunHostParts {
  config: GatewayConfig;
  log: Logger;
  state: StateStore;
  images: ImageStore;
  journal: Journal;
  /** Space held back in the state directory for the writes of an undo (store/reserve.ts). */
  reserve: SpaceReserve;
  board: StatusBoard;
  links: ReadonlyMap<string, ModuleLink>;
  now(): number;
}

/** States a job reports that end its display; everything else is "working". */
const SETTLED = new Set<ModuleState>(["idle", "committed", "failed", "rolled-back", "queued"]);

export function createRunHost(parts: RunHostParts, run: RunRecord): ExecutorHost {
  const modules = new Map(parts.config.modules.map((m) => [m.id, m]));
  return {
    config: parts.config,
    log: parts.log,
    now: () => parts.now(),
    checkpoint: (what) => parts.journal.write(run, what),
    storageFault: async (fault) => {
      if (await parts.reserve.release())
        parts.log.warn(
          { errno: fault.errno, path: parts.reserve.path, bytes: parts.reserve.bytes },
          "space reserve released for the undo's journal writes",
        );
    },
    env: (job, signal) => jobEnv(parts, run, job, modules.get(job.module)!, signal),
    showJob: (job) => parts.board.update(job.module, jobStatus(job)),
  };
}

function jobEnv(
  parts: RunHostParts,
  run: RunRecord,
  job: JobRecord,
  module: ModuleConfig,
  signal: AbortSignal,
): JobEnv {
  return {
    module,
    device: moduleDevice(module),
    link: parts.links.get(module.id)!,
    images: parts.images,
    state: parts.state,
    log: parts.log.child({ module: module.id, port: portOf(module) }),
    signal,
    checkpoint: (what) => parts.journal.write(run, what),
    report: (update) => {
      // A rollback in progress shows as "rolling-back" whatever step it is at (entering, writing…).
      const undoing = job.kind === "restore" || job.step === "rolling-back";
      const state = update.state && undoing && !SETTLED.has(update.state) ? "rolling-back" : update.state;
      parts.board.update(module.id, { ...update, state });
    },
  };
}

/** The module status fields that follow from a job's journalled step. */
export function jobStatus(job: JobRecord): StatusUpdate & {
  activeSlot?: "a" | "b" | "single" | null;
  release?: string | null;
  sequence?: number | null;
} {
  const common = { note: job.note, release: job.target.release, sequence: job.target.sequence };
  switch (job.step) {
    case "pending":
      return {
        ...common,
        state: "queued",
        targetVersion: job.target.version,
        lastError: null,
        progress: null,
        remainingSeconds: null,
      };
    case "committed":
      return {
        ...common,
        // A restore is "rolled-back" only when it took the module back to an older release than the one
        // it left; a second rollback that returns to the newer firmware is just "committed".
        state: job.kind === "restore" && wentBack(job) ? "rolled-back" : "committed",
        version: job.target.version,
        activeSlot: job.slot,
        targetVersion: null,
        verification: job.verification,
        lastError: null,
        progress: null,
        remainingSeconds: null,
      };
    case "rolling-back":
      return { ...common, state: "rolling-back", lastError: job.error };
    case "rolled-back":
      return {
        ...common,
        state: "rolled-back",
        version: job.from?.version ?? null,
        activeSlot: job.from?.slot ?? null,
        targetVersion: null,
        lastError: job.error,
        progress: null,
        remainingSeconds: null,
      };
    case "failed":
      return {
        ...common,
        state: "failed",
        targetVersion: null,
        lastError: job.error,
        progress: null,
        remainingSeconds: null,
      };
    case "skipped":
      return {
        ...common,
        state: "idle",
        targetVersion: null,
        lastError: job.error,
        progress: null,
        remainingSeconds: null,
      };
    default:
      return {
        note: job.note,
        targetVersion: job.target.version,
        release: job.target.release,
        sequence: job.target.sequence,
      };
  }
}

function wentBack(job: JobRecord): boolean {
  return isOlderRelease(job.target, job.from);
}
