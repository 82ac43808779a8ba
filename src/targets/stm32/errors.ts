import { SubflashError } from "../../util/errors.js";

export type BootloaderErrorCode =
  | "no-answer" // nothing came back to activation (wrong baud/parity, not in bootloader, wiring)
  | "timeout" // an ACK or reply did not arrive within the operation's budget
  | "nack" // the device refused a frame
  | "unexpected-byte" // neither ACK, NACK nor BUSY where a status byte was due
  | "bad-reply" // a reply that cannot be decoded (length, checksum)
  | "command-unsupported" // the Get list does not offer the command
  | "readout-protected" // RDP level 1: the device NACKs memory commands
  | "unknown-device" // PID not in the device table
  | "invalid-argument"; // a request the protocol cannot express (length, alignment, count)

/** The ROM bootloader protocol refused, or did not answer, or answered something else. */
const BOOTLOADER_TRANSIENT: ReadonlySet<BootloaderErrorCode> = new Set<BootloaderErrorCode>([
  "timeout",
  "nack",
  "unexpected-byte",
  "bad-reply",
  "no-answer",
]);

export class BootloaderError extends SubflashError<BootloaderErrorCode> {
  readonly domain = "bootloader";

  /**
   * Whether another attempt may succeed: the line garbled or lost a byte, or the device refused one
   * frame (AN3155 §2.2: after a NACK it waits for a new command). The flasher's per-step retries and
   * the gateway's job retries both ask this; readout protection, an unknown device or an unsupported
   * command never go away by trying again.
   */
  get transient(): boolean {
    return BOOTLOADER_TRANSIENT.has(this.code);
  }
}
