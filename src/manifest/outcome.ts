/** Verification outcomes: every way a bundle, manifest or command can be refused has a stable name. */
import type { EnvelopeFailureCode, SignerReport } from "../signing/index.js";
import type { PayloadFailureCode } from "./schema.js";
import type { Manifest, ModuleType, SignedCommand, SlotName } from "./types.js";

export type PolicyFailureCode =
  | "not-for-this-gateway" // neither this gateway's id nor one of its groups is targeted
  | "expired" // at or after `expires` (plus the allowed clock skew)
  | "not-yet-valid" // issued in the future beyond the allowed clock skew
  | "replayed" // sequence not greater than the last accepted one
  | "downgrade" // a module's security version is below its floor
  | "wrong-device" // a module's PID differs from the one the gateway's config declares
  | "slot-mismatch" // A/B images for a single-slot module, or the reverse
  | "image-too-large" // an image is larger than its slot
  | "outside-slot" // an image's address range leaves its slot
  | "dependency-unsatisfied" // a dependency is neither in the bundle nor installed at the minimum version
  | "dependency-cycle" // module types depend on each other in a loop
  | "dependency-order" // a module is ordered before (or with) a module it depends on
  | "bundle-mismatch" // an inline image the manifest names is missing, or the bundle carries one it does not name
  | "size-mismatch" // image length differs from the manifest
  | "digest-mismatch" // image SHA-256 differs from the manifest
  | "crc-mismatch"; // image CRC-32 or STM32 CRC differs from the manifest

export type VerifyFailureCode =
  "malformed-bundle" | EnvelopeFailureCode | PayloadFailureCode | PolicyFailureCode;

/** Where in the order of checks the failure happened: bundle → envelope (signatures) → decode → schema → policy. */
export type VerifyStage = "bundle" | "envelope" | "decode" | "schema" | "policy";

export interface VerifyFailure {
  ok: false;
  code: VerifyFailureCode;
  stage: VerifyStage;
  /**
   * The refused manifest's release and sequence, set only when the signatures verified and the
   * payload decoded (policy refusals), so nothing unverified is ever repeated.
   */
  refused?: { release: string; sequence: number };
  /** For people and logs; names the module type, slot, field or key concerned. */
  message: string;
  /** Machine-readable context (module type, slot, key ids, numbers compared…). */
  detail: Record<string, unknown>;
}

/** The images of a verified bundle, by module type and slot (URL-sourced slots are absent). */
export type BundleImages = ReadonlyMap<ModuleType, Partial<Record<SlotName, Uint8Array>>>;

export interface VerifiedBundle {
  ok: true;
  manifest: Manifest;
  images: BundleImages;
  /** Ids of the trusted keys whose signatures verified. */
  signedBy: string[];
}

export type VerifyOutcome = VerifiedBundle | VerifyFailure;

export type CommandVerifyOutcome = { ok: true; command: SignedCommand; signedBy: string[] } | VerifyFailure;

export function failure(
  code: VerifyFailureCode,
  stage: VerifyStage,
  message: string,
  detail: Record<string, unknown> = {},
): VerifyFailure {
  return { ok: false, code, stage, message, detail };
}

/** Signer reports as detail for envelope failures. */
export function signerDetail(signers: readonly SignerReport[]): Record<string, unknown> {
  return { signers: signers.map((s) => ({ ...s })) };
}
