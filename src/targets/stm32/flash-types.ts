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
}

export type FlashResult =
  | { ok: true; previous: "replaced"; stats: FlashStats }
  | { ok: false; previous: PreviousFirmware; error: SubflashError; stats: FlashStats };

export interface FlashEvents {
  progress: [FlashProgress];
  /** A retried step, for logs: what was retried, which attempt out of how many, and why. */
  retry: [{ what: string; attempt: number; of: number; reason: string }];
}
