import { SubflashError } from "../util/errors.js";

export type SigningErrorCode =
  | "bad-key" // a key of the wrong length or a weak public key handed to a signing function
  | "bad-key-file" // a key file that is not valid JSON, not a subflash key, or whose fields disagree
  | "insecure-key-file" // a secret key file readable by group or others
  | "key-file-exists" // keygen would overwrite an existing file
  | "bad-trust-store" // a trust store file that is not valid (names the field)
  | "file-unreadable" // a key or trust store file that cannot be read
  | "file-unwritable"; // a key or trust store file that cannot be written

/**
 * Thrown problems of the signing layer: bad key files, bad trust stores, bad keys passed in by code.
 * Verification outcomes (bad signature, unknown key…) are results, never this error.
 */
export class SigningError extends SubflashError<SigningErrorCode> {
  readonly domain = "signing";
}
