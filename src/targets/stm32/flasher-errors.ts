import { SubflashError } from "../../util/errors.js";

export type FlashErrorCode =
  | "cannot-plan" // the device cannot express the erase the image needs (no erase command, 0x43 page > 255…)
  | "write-failed" // a block could not be written within its retries
  | "verify-failed" // flash content differs from the image after writing (and after repair)
  | "link-unproven" // before any erase: Get / Get ID / a known read were not sane and consistent (wrong baud, noise)
  | "cancelled" // the caller aborted the operation
  | "internal"; // an unexpected exception (a bug), wrapped so the result still says what became of the flash

/** A flash operation (erase, write, verify) that could not be completed as planned. */
export class FlashError extends SubflashError<FlashErrorCode> {
  readonly domain = "flash";
}
