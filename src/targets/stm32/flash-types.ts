/**
 * The public shape of a flash operation: options, progress events and the result. The flasher
 * (flasher.ts) implements it; the CLI and the gateway consume it.
 */
import type { SubflashError } from "../../util/errors.js";

/** How written flash is checked on the device. `auto`: Get Checksum (0xA1) when the Get list has it, else read-back. */
export type VerifyMode = "auto" | "crc" | "readback" | "none";

export type FlashPhase = "connect" | "erase" | "write" | "verify" | "go";

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
