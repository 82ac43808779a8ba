import { SubflashError } from "../util/errors.js";

export type ManifestErrorCode =
  | "spec-unreadable" // the release spec file cannot be read or is not YAML/JSON
  | "bad-spec" // the release spec is readable but wrong (names every field concerned)
  | "image-unreadable" // an image file named by the spec cannot be read or parsed
  | "image-outside-flash" // an image does not fit, or lies outside, the main flash of the module's device
  | "invalid-manifest" // a builder was handed a manifest, command or bundle layout that verification would reject
  | "unreadable-input"; // a bundle/manifest file given to the CLI cannot be read

/**
 * Thrown problems of the manifest layer (tooling and builders). Verification of a received bundle
 * or command never throws this: its outcome is a VerifyOutcome.
 */
export class ManifestError extends SubflashError<ManifestErrorCode> {
  readonly domain = "manifest";
}
