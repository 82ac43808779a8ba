/**
 * The gateway's status vocabulary: per-module states (design decision 6), the retained status payloads
 * published on MQTT (decision 7), and the events the update engine emits. The engine produces these;
 * the MQTT side only serialises them. Payloads are JSON-safe (no Uint8Array, no bigint, no Date).
 */
import type { VerifyFailureCode } from "../../manifest/index.js";
import type { BootloaderErrorCode, FlashErrorCode, TransportErrorCode } from "../../targets/index.js";
import type { GatewayErrorCode } from "../errors.js";

/** Per-module state machine (design.md decision 6). */
export type ModuleState =
  | "idle"
  | "queued"
  | "downloading"
  | "entering-bootloader"
  /** Reading the previous firmware back into the image store before its slot is overwritten (keep-previous). */
  | "backing-up"
  | "erasing"
  | "writing"
  | "verifying"
  | "activating"
  | "health-check"
  | "committed"
  | "failed"
  | "rolling-back"
  | "rolled-back";

/** States in which no run is moving the module; every other state is a step of a run. */
export const SETTLED_MODULE_STATES: ReadonlySet<ModuleState> = new Set<ModuleState>([
  "idle",
  "committed",
  "failed",
  "rolled-back",
]);

export type Slot = "a" | "b" | "single";

/**
 * A module's progress in the current run. `percent` is the module's overall progress: it never goes
 * down while the module moves forward (backup, then erase/write/verify); only a rollback
 * (`rolling-back`) or the next run starts a new bar. `done`/`total` count the current phase's bytes.
 */
export interface ProgressInfo {
  /** "backup", "connect", "erase", "write", "verify" (or "download"). */
  phase: string;
  done: number;
  total: number;
  percent: number;
}

/**
 * Every code a status, event or command response can carry: the engine's own (errors.ts) and the
 * refusals of verification (signatures, decoding, policy). docs/mqtt-api.md lists them all, and
 * test/gateway/status-codes.test.ts keeps the two in step.
 */
export type StatusErrorCode =
  GatewayErrorCode | VerifyFailureCode | TransportErrorCode | BootloaderErrorCode | FlashErrorCode;

/** What one flash write did (the flasher's stats, AN3155 Write Memory 0x31 blocks of 256 bytes). */
export interface FlashFigures {
  bytesWritten: number;
  blocksWritten: number;
  /** Blocks left out because they were all 0xFF over erased flash. */
  blocksSkipped: number;
  /** Block writes, reads and erase commands tried again (NACK, timeout, garbled answer). */
  retries: number;
  verifiedBy: string;
  elapsedMs: number;
}

/** A stable error code with a readable message, as published in status. */
export interface StatusError {
  code: StatusErrorCode;
  message: string;
  /** Module, port, field… the error is about. */
  context?: Record<string, unknown>;
}

/** What one slot write did: erase units checked, skipped, erased, written; bytes on the wire; time vs a full write. */
export interface FlashSummary {
  unitsCovered: number;
  unitsChecked: number;
  unitsSkipped: number;
  unitsErased: number;
  unitsWritten: number;
  /** Bytes sent plus received on the link. */
  wireBytes: number;
  elapsedMs: number;
  /** Modelled time of erasing, writing and verifying the whole image, for comparison. */
  fullEstimateMs: number | null;
}

/** Retained payload of `{prefix}/{gw}/modules/{module}/status`. */
export interface ModuleStatus {
  module: string;
  moduleType: string;
  state: ModuleState;
  /** Version of the confirmed (committed) firmware, when known. */
  version: string | null;
  /** Slot the module boots and that is confirmed. */
  activeSlot: Slot | null;
  /** While an update runs: the version being installed. */
  targetVersion: string | null;
  progress: ProgressInfo | null;
  remainingSeconds: number | null;
  release: string | null;
  sequence: number | null;
  /** How the written image was checked on the device: "crc", "readback", "none". */
  verification: string | null;
  /** What the last slot write did (differential flashing): absent until one ran. */
  flash?: FlashSummary | null;
  /** Figures of the last flash write on this module (metrics and the status page), null before one. */
  lastFlash?: FlashFigures | null;
  lastError: StatusError | null;
  /** Human note for recovery decisions after a restart, e.g. "resumed after restart" or "rolled back after restart". */
  note: string | null;
  /** Monotonic per-module counter, so consumers can drop stale messages. */
  seq: number;
  /** ISO-8601 time of this status. */
  updatedAt: string;
}

/** State of an accepted bundle (a refused one never becomes `bundle`: see `lastRejected`). */
export type BundleState =
  | "verifying"
  | "waiting-for-window"
  | "running"
  | "committed"
  | "failed"
  | "rolled-back"
  | "cancelled"
  /** Failed `retry.attempts` times: no more automatic attempts until a newer sequence or a signed retry. */
  | "quarantined";

/** A bundle run as the gateway status shows it. */
export interface BundleInfo {
  release: string;
  sequence: number;
  state: BundleState;
  error: StatusError | null;
  startedAt: string;
  finishedAt: string | null;
}

/** Retained payload of `{prefix}/{gw}/status`. */
export interface GatewayStatus {
  gateway: string;
  groups: string[];
  online: boolean;
  /** The bundle in progress, or the last accepted one, finished. A refusal does not replace it. */
  bundle: BundleInfo | null;
  /**
   * What the last run did, whatever started it (a bundle, a retry, a rollback command), with a
   * one-line summary such as "bundle demo-3.0.1 committed" or "rollback committed"; null before any.
   */
  lastRun?: RunSummary | null;
  modules: Record<string, { state: ModuleState; version: string | null; activeSlot: Slot | null }>;
  /** Last accepted manifest and command sequence numbers. */
  lastSequence: number;
  /**
   * Why every bundle is refused until an operator acknowledges (`state-lost`: state.json missing on
   * a gateway with history; `state-disagrees`: the two copies of the anti-replay floors differ or one
   * is damaged). Null when bundles are accepted.
   */
  stateAlert?: StatusError | null;
  /** The last bundle refused (signature, replay, target, plan…), without touching any module; shown beside `bundle`. */
  lastRejected?: RejectedBundle | null;
  seq: number;
  updatedAt: string;
}

export interface RunSummary {
  kind: "bundle" | "retry" | "rollback";
  release: string | null;
  sequence: number | null;
  state: BundleState;
  /** e.g. "bundle demo-3.0.1 committed", "retry of demo-3.0.1 failed (flash-failed)", "rollback committed". */
  summary: string;
  /** The release notes the manifest carried, if any. */
  notes: { summary?: string; url?: string } | null;
  error: StatusError | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface RejectedBundle {
  /**
   * Release and sequence once the signatures were verified and the payload decoded (policy refusals:
   * replayed, expired, not-for-this-gateway…); null when the bundle was refused before (bad signature,
   * malformed), since nothing unverified is repeated.
   */
  release: string | null;
  sequence: number | null;
  error: StatusError;
  /** Topic it arrived on, when known. */
  topic: string | null;
  at: string;
}

/**
 * What the engine reports as it works (the `event` event; the MQTT side turns these into messages
 * on `{prefix}/{gw}/events`):
 * - `transition`: a module changed state (`from` → `to`), never throttled;
 * - `progress`: a module's progress, at most one per module per 500 ms plus one per phase change;
 * - `bundle`: a bundle run started or finished (`state`);
 * - `rejected`: a bundle was refused; no module was touched;
 * - `command`: a signed command was accepted or refused;
 * - `reconcile`: a module was checked against the gateway's records (`error`: the mismatch, by code).
 */
export type GatewayEvent =
  TransitionEvent | ProgressEvent | BundleEvent | RejectedEvent | CommandEvent | ReconcileEvent;

/** The release and sequence an event is about (null when unknown or not verified). */
interface EventBase {
  release: string | null;
  sequence: number | null;
  /** ISO-8601 time of the event. */
  at: string;
}

/** A module changed state (`from` → `to`). */
export interface TransitionEvent extends EventBase {
  type: "transition";
  module: string;
  from: ModuleState;
  to: ModuleState;
  version: string | null;
  error: StatusError | null;
  note: string | null;
}

/** A module's progress within its current state. */
export interface ProgressEvent extends EventBase {
  type: "progress";
  module: string;
  progress: ProgressInfo;
  remainingSeconds: number | null;
}

/** A bundle run (or a rollback or retry run) started or finished. */
export interface BundleEvent extends EventBase {
  type: "bundle";
  state: BundleState;
  error: StatusError | null;
  note: string | null;
}

/** A bundle was refused; no module was touched. */
export interface RejectedEvent extends EventBase {
  type: "rejected";
  error: StatusError;
}

/** A signed command was accepted (error null) or refused. */
export interface CommandEvent {
  type: "command";
  /** The command's kind, or "unknown" when it could not be decoded. */
  command: string;
  error: StatusError | null;
  note: string | null;
  at: string;
}

/** A module was checked against the gateway's records (src/gateway/reconcile); `error` names a mismatch. */
export interface ReconcileEvent {
  type: "reconcile";
  module: string;
  version: string | null;
  error: StatusError | null;
  note: string;
  at: string;
}

/** An event without its time, as the engine builds it (a distributive Omit, keeping the union). */
export type GatewayEventDraft = GatewayEvent extends infer E
  ? E extends GatewayEvent
    ? Omit<E, "at">
    : never
  : never;
