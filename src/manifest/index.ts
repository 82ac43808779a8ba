/**
 * Public API of the manifest layer. The gateway calls verifyBundle / verifyCommand; the operator
 * and release tooling use the builders (createBundle, signManifest, signCommand, describeImage).
 */
export { ManifestError, type ManifestErrorCode } from "./errors.js";
export {
  FORMAT_VERSION,
  slotEntries,
  type Manifest,
  type ModuleEntry,
  type ModuleSlots,
  type AbSlots,
  type SingleSlot,
  type SlotImage,
  type SlotName,
  type ImageSource,
  type Dependency,
  type BundlePolicy,
  type Atomicity,
  type Targets,
  type ModuleType,
  type SignedCommand,
  type CommandKind,
  type BundleRef,
} from "./types.js";
export {
  verifyBundle,
  verifyCommand,
  openBundle,
  openSignedManifest,
  DEFAULT_SKEW_SECONDS,
  type VerifyOptions,
  type CommandVerifyOptions,
  type PolicyState,
  type OpenedBundle,
} from "./verify.js";
export {
  checkPolicy,
  POLICY_CHECKS,
  type PolicyInput,
  type PolicyCheckName,
  type GatewayIdentity,
  type ModuleTypeConfig,
  type SlotLayout,
  type SlotRange,
} from "./policy.js";
export type {
  VerifyOutcome,
  VerifyFailure,
  VerifyFailureCode,
  VerifyStage,
  PolicyFailureCode,
  VerifiedBundle,
  BundleImages,
  CommandVerifyOutcome,
} from "./outcome.js";
export { createBundle, signManifest, signCommand, encodeManifest, encodeCommand } from "./build.js";
export { encodeBundle, decodeBundle, looksLikeBundle, BUNDLE_MAGIC, type BundleParts } from "./bundle.js";
export { decodeManifestPayload, decodeCommandPayload, type PayloadFailureCode } from "./schema.js";
export { formatTime, formatPid, hex32 } from "./format.js";
export { describeImage, checkImage, type ImageCheck, type ImageCheckCode } from "./images.js";
export { compareVersions, isVersion } from "./version.js";
export { updateStages, findDependencyProblem } from "./dependencies.js";
export { manifestToJson, commandToJson, formatManifest, formatCommand } from "./describe.js";
export {
  readReleaseSpec,
  parseReleaseSpec,
  resolveExpiry,
  parseInstant,
  type ReleaseSpec,
} from "./release-spec.js";
export { buildRelease, DEFAULT_EXPIRY, type ReleaseOptions, type BuiltRelease } from "./release.js";
