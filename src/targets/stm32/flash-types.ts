/**
 * The public shape of a flash operation: options, progress events and the result. The flasher
 * (flasher.ts) implements it; the CLI and the gateway consume it.
 */
import type { SubflashError } from "../../util/errors.js";

/** How written flash is checked on the device. `auto`: Get Checksum (0xA1) when the Get list has it, else read-back. */
export type VerifyMode = "auto" | "crc" | "readback" | "none";

/** `check`: asking the device which erase units already hold the new content (differential flashing). */
export type FlashPhase = "connect" | "check" | "erase" | "write" | "verify" | "go";

/** Differential flashing: `auto` erases and writes only the erase units that differ; `off` rewrites every unit the image covers. */
export type DiffMode = "auto" | "off";

/**
 * Flash content the caller knows the module holds (the gateway: what it wrote and verified on this
 * module, from its image store). `tailErased`: the rest of the erase unit where `data` ends reads
 * 0xFF (it was written by this flasher, which erases whole units).
 */
export interface KnownContent {
  address: number;
  data: Uint8Array;
  tailErased?: boolean;
}

/** How one erase unit was decided: `checksum` (Get Checksum on the device), `known` (the caller's records), `none` (no evidence). */
export type UnitEvidence = "checksum" | "known" | "none";

/** What differential flashing did with the erase units the image covers. */
export interface UnitStats {
  /** Units the image covers. */
  covered: number;
  /** Units whose content was asked of the device (Get Checksum) or compared with known content. */
  checked: number;
  /** Units left alone because they already held the new content, by evidence. */
  skipped: number;
  skippedBy: { checksum: number; known: number };
  /** Units erased (including repairs). */
  erased: number;
  /** Units that received at least one Write Memory block. */
  written: number;
  /** Get Checksum exchanges spent deciding (not counting the final verification). */
  checks: number;
}

export interface FlashProgress {
  phase: FlashPhase;
  /** Bytes (write, verify) or erase units (erase) done in this phase. */
  done: number;
  total: number;
  /** Overall percent across weighted phases, monotonic 0..100. */
  percent: number;
  /** Estimated seconds left for the whole operation, from measured throughput. */
  remainingSeconds?: number;
}

/**
 * What became of the firmware that was on the module before:
 * - `untouched`: nothing was erased or written (failure before the first erase);
 * - `replaced`: the new image is fully written and verified;
 * - `partly-erased`: some of the old image is gone and the new one is incomplete or unverified — the
 *   module needs recovery (re-flash through the bootloader, which is always there).
 */
export type PreviousFirmware = "untouched" | "replaced" | "partly-erased";

export interface FlashStats {
  eraseUnits: number;
  massErase: boolean;
  blocksWritten: number;
  /** Blocks skipped because they are all 0xFF and the area was erased. */
  blocksSkipped: number;
  bytesWritten: number;
  verifiedBy: Exclude<VerifyMode, "auto">;
  retries: number;
  elapsedMs: number;
  /** Bytes the transport moved in each direction during the operation. */
  wire: { sent: number; received: number };
  /** Bytes the verification compared: the whole image ranges (crc) or the written blocks (readback). */
  verifiedBytes?: number;
  /** Units erased again and blocks rewritten after a verification mismatch. */
  repairs?: number;
  /** Differential flashing: which units were checked, skipped, erased and written. */
  units?: UnitStats;
  /** Modelled duration of a full erase + write + verify of the image (no unit skipped), for comparison with elapsedMs. */
  fullEstimateMs?: number;
  /** Plain-language remarks: erase choice, what the verification covered, unverified flash. */
  notes?: string[];
}

/** Options of one flash operation (see flasher.ts). */
export interface FlashOptions {
  /** Default "auto": Get Checksum (0xA1) when offered, else read-back. "crc" requires 0xA1. */
  verify?: VerifyMode;
  /** Default "auto": the units the image covers (mass erase only when that is the whole flash and quicker). */
  erase?: "auto" | "mass";
  /** Start the code after a verified flash: an address, or true for the image start. */
  go?: number | true;
  /** Attempts per block write / read / erase command, first try included (default 3). */
  attempts?: number;
  /** Rounds of "erase the units again and rewrite" after a verification mismatch (default 1). */
  repairRounds?: number;
  /**
   * Default "auto": erase and write only the erase units whose content differs from the image
   * (Get Checksum per unit where the Get list offers it; `known` content otherwise, when trusted).
   * Ignored with `erase: "mass"`.
   */
  diff?: DiffMode;
  /** Prove the link (Get, Get ID, a read of the flash head) again before the first erase. Default true. */
  proveLink?: boolean;
  /** Content the caller knows the module holds; used as evidence only with `trustKnownContent` and no Get Checksum. */
  known?: readonly KnownContent[];
  /** May `known` content alone skip a unit when the device cannot be asked cheaply (no 0xA1)? Default false. */
  trustKnownContent?: boolean;
  /** Stops between steps; the result then says what state the flash was left in. */
  signal?: AbortSignal;
}

export type FlashResult =
  | { ok: true; previous: "replaced"; stats: FlashStats }
  | { ok: false; previous: PreviousFirmware; error: SubflashError; stats: FlashStats };

export interface FlashEvents {
  progress: [FlashProgress];
  /** A retried step, for logs: what was retried, which attempt out of how many, and why. */
  retry: [{ what: string; attempt: number; of: number; reason: string }];
  /** The same result the operation resolves with. */
  done: [FlashResult];
}
