/**
 * The persistent shapes of the engine: what a module has installed, and a run (one bundle, retry or
 * rollback) with one job per module. Runs are what the journal stores; installed images are what
 * the state store keeps per module. All JSON-safe.
 */
import type { BundleState, Slot, StatusError } from "../status/types.js";

/** An image in the image store, placed at an address. */
export interface ImageRef {
  /** SHA-256, lower-case hex: the image store key. Null only for a restore of a slot the gateway never wrote. */
  digest: string | null;
  length: number;
  /** STM32 CRC-32 of the image (0xFF-padded to whole words), what Get Checksum returns. */
  crc: number;
  address: number;
  /** Where to fetch it when the bundle did not carry it inline (https). */
  url?: string;
}

/** A firmware a module runs (confirmed) or ran before (previous). */
export interface InstalledImage {
  version: string | null;
  securityVersion: number;
  slot: Slot;
  address: number;
  /** 0 when unknown (a factory-flashed A/B slot the gateway never wrote). */
  length: number;
  crc: number | null;
  /** Image store key, or null when the gateway has no copy. */
  digest: string | null;
  release: string | null;
  sequence: number | null;
}

/**
 * - install: write the target into the inactive slot (or the single slot), trial-boot, health-check, confirm;
 * - restore: the same steps with the module's previous firmware as the target (the signed rollback
 *   command): an A/B slot that still holds it is not rewritten, only trial-booted and confirmed.
 */
export type JobKind = "install" | "restore";

/**
 * Journalled steps of a job, each written BEFORE it acts:
 * pending → preparing (enter bootloader, identity, read boot records / back up a single slot)
 * → [backup] (A/B only, when needed: read the module's previous firmware out of the slot about to be
 * written, into the image store) → writing (erase + write + verify the target slot) → activating
 * (trial record or go) → health-check → committing (confirmed record / state) → committed; failure
 * paths: failed, rolling-back → rolled-back.
 */
export type JobStep =
  | "pending"
  | "preparing"
  | "backup"
  | "writing"
  | "activating"
  | "health-check"
  | "committing"
  | "committed"
  | "failed"
  | "rolling-back"
  | "rolled-back"
  | "skipped";

export interface JobTarget {
  /** Null only when restoring a firmware whose version the gateway never knew. */
  version: string | null;
  /** Release name and manifest sequence the version comes from (status and state). */
  release: string | null;
  sequence: number | null;
  securityVersion: number;
  /** The image per slot: `a` and `b` for A/B modules (linked for each slot's address), `single` otherwise. */
  images: Partial<Record<Slot, ImageRef>>;
}

export interface JobRecord {
  module: string;
  moduleType: string;
  bus: string;
  /** Modules (ids) that must be committed before this one starts. */
  dependsOn: string[];
  kind: JobKind;
  target: JobTarget;
  /** Chosen in `preparing` and journalled before anything is written: the slot being written. */
  slot: Slot | null;
  /** What the module ran (confirmed) before this job; set in `preparing`. */
  from: InstalledImage | null;
  /** The state's `previous` for the module before this job, so an undo restores the state exactly. */
  previousBefore: InstalledImage | null;
  step: JobStep;
  /** Sequence of the last boot record this job wrote (trial or confirmed). */
  bootSequence: number | null;
  attempts: number;
  /** Verification method used on the device: "crc", "readback", "none". */
  verification: string | null;
  error: StatusError | null;
  note: string | null;
  /** Undoing this job (putting `from` back), once it failed or the bundle is rolled back. */
  undo: UndoCursor | null;
}

/** Progress of putting a job's `from` back; steps journalled like the job's own. */
export interface UndoCursor {
  step: RestoreStep;
  /** A/B: the slot must be rewritten from the image store (its content changed); single: re-flash needed. */
  rewrite: boolean | null;
}

/** Steps of a restore (rollback): same meaning as the install steps, without the trial. */
export type RestoreStep = "preparing" | "writing" | "activating" | "health-check" | "committing" | "done";

export type RunKind = "bundle" | "retry" | "rollback";

export interface RunRecord {
  format: 1;
  id: string;
  kind: RunKind;
  release: string | null;
  sequence: number | null;
  /** SHA-256 of the bundle bytes, when the run comes from a bundle. */
  bundleDigest: string | null;
  /** ISO time after which the manifest is expired (a retry or resume must not use it then). */
  expiresAt: string | null;
  allOrNothing: boolean;
  maxParallel: number;
  /** running: jobs advancing; rolling-back: undoing after a failure or cancel; finished: nothing to do. */
  state: "running" | "rolling-back" | "finished";
  outcome: BundleState;
  cancelRequested: boolean;
  jobs: JobRecord[];
  /** Modules committed in this run, in commit order; rollback goes in reverse. */
  commitOrder: string[];
  firstError: StatusError | null;
  note: string | null;
  /** The manifest's release notes (summary, url), when it carries them. */
  notes?: { summary?: string; url?: string } | null;
  startedAt: string;
  finishedAt: string | null;
}
