/**
 * Bounded, visible retries of one protocol step (a block write, a read, an erase command): NACK,
 * timeout, a garbled status byte or reply are retried after resynchronising the link where the frame
 * boundary may be lost; everything else (readout protection, a port that went away) stops at once.
 */
import { describeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import type { Bootloader } from "./bootloader.js";
import { BootloaderError } from "./errors.js";
import type { FlashEvents } from "./flash-types.js";

export interface RetryContext {
  bootloader: Bootloader;
  /** Attempts per step, first try included. */
  attempts: number;
  log: Logger;
  onRetry(event: FlashEvents["retry"][0]): void;
}

/**
 * Failures a new attempt can cure: the line garbled or lost a byte, or the device refused one frame.
 * A Read Memory refused at its command frame looks like readout protection, but on a session that
 * probed RDP level 0 it is line trouble (protection cannot turn on without a reset): retried too.
 */
export function isRetryable(error: unknown, rdp?: Bootloader["rdp"]): error is BootloaderError {
  if (!(error instanceof BootloaderError)) return false;
  if (error.code === "readout-protected") return rdp === "level0";
  // A silent bootloader (no-answer) is transient for the gateway, which enters it again; within one
  // session a repeated step cannot bring it back.
  return error.transient && error.code !== "no-answer";
}

/**
 * After a NACK the device is back at a frame boundary (AN3155 §2.2), unless the NACK answered the
 * command frame itself, which happens when a stray byte left the pairs misaligned. Every other
 * failure may have left the device in the middle of a frame.
 */
function needsResync(error: BootloaderError): boolean {
  return error.code !== "nack" || error.context.phase === "command";
}

/**
 * Runs `step` up to `ctx.attempts` times. Before each new attempt the link is resynchronised when
 * needed, and `recheck` (if given) may settle the step without repeating it (e.g. a write whose ACK
 * was lost): a value other than undefined ends the retries with that value.
 */
export async function withRetry<T>(
  ctx: RetryContext,
  what: string,
  step: () => Promise<T>,
  recheck?: (error: BootloaderError) => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isRetryable(error, ctx.bootloader.rdp) || attempt >= ctx.attempts) throw error;
      const reason = describeError(error);
      ctx.log.warn({ what, attempt: `${attempt + 1}/${ctx.attempts}`, reason }, "retrying");
      ctx.onRetry({ what, attempt: attempt + 1, of: ctx.attempts, reason });
      if (needsResync(error)) await ctx.bootloader.resync(`${what}: ${error.code}`);
      if (recheck) {
        const settled = await recheck(error);
        if (settled !== undefined) return settled;
      }
    }
  }
}
