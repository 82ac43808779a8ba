/**
 * The gateway's entry points: verifyBundle for update bundles and verifyCommand for operator
 * commands. Order of checks: bundle container → signatures over the exact signed bytes (trust
 * store, threshold, key validity) → content type → CBOR decode → schema → policy. Nothing is
 * decoded before its signature is verified, and every refusal is a named VerifyFailure.
 */
import { ContentType, openEnvelope, type ContentTypeValue } from "../signing/index.js";
import type { TrustStore } from "../signing/index.js";
import { decodeBundle } from "./bundle.js";
import {
  failure,
  signerDetail,
  type BundleImages,
  type CommandVerifyOutcome,
  type VerifyFailure,
  type VerifyOutcome,
} from "./outcome.js";
import {
  checkPolicy,
  checkSequence,
  checkTimes,
  type GatewayIdentity,
  type ModuleTypeConfig,
} from "./policy.js";
import { decodeCommandPayload, decodeManifestPayload, type PayloadResult } from "./schema.js";
import { slotEntries, type Manifest, type ModuleType, type SignedCommand, type SlotName } from "./types.js";

/** Default tolerated clock difference between signer and gateway. */
export const DEFAULT_SKEW_SECONDS = 300;

/** What the gateway has persisted about manifests it accepted and modules it updated. */
export interface PolicyState {
  /** Sequence of the last accepted manifest (0 when none). */
  lastSequence: number;
  /** Per module type, the lowest acceptable security version: that of the last committed image (missing: 0). */
  securityFloors: Readonly<Record<ModuleType, number>>;
  /** Per module type, the version installed now (for dependencies on modules the bundle does not update). */
  installedVersions: Readonly<Record<ModuleType, string>>;
}

export interface VerifyOptions {
  trust: TrustStore;
  gateway: GatewayIdentity;
  state: PolicyState;
  /** Defaults to the current time. */
  now?: Date;
  /** Defaults to DEFAULT_SKEW_SECONDS. */
  skewSeconds?: number;
  /** From the gateway config: PID and slot layout per module type, checked when given. */
  moduleTypes?: Readonly<Record<ModuleType, ModuleTypeConfig>>;
}

/** A bundle whose signatures, payload and schema are good; policy not yet checked. */
export interface OpenedBundle {
  ok: true;
  manifest: Manifest;
  /** Inline images as carried, by index. */
  images: Uint8Array[];
  signedBy: string[];
}

/**
 * Verifies an update bundle received by the gateway. Returns the manifest and the verified image
 * bytes by module type and slot, or the first failure. Never throws on any input bytes.
 */
export function verifyBundle(bytes: Uint8Array, options: VerifyOptions): VerifyOutcome {
  const now = options.now ?? new Date();
  const opened = openBundle(bytes, { trust: options.trust, now });
  if (!opened.ok) return opened;
  const { failure: refused } = checkPolicy(opened.manifest, {
    now,
    skewSeconds: options.skewSeconds ?? DEFAULT_SKEW_SECONDS,
    gateway: options.gateway,
    lastSequence: options.state.lastSequence,
    securityFloors: options.state.securityFloors,
    installedVersions: options.state.installedVersions,
    images: opened.images,
    ...(options.moduleTypes && { moduleTypes: options.moduleTypes }),
  });
  if (refused) {
    return { ...refused, refused: { release: opened.manifest.release, sequence: opened.manifest.sequence } };
  }
  return {
    ok: true,
    manifest: opened.manifest,
    images: imagesBySlot(opened.manifest, opened.images),
    signedBy: opened.signedBy,
  };
}

/** Opens a bundle up to the schema: container, signatures, decode, schema. Policy is the caller's. */
export function openBundle(
  bytes: Uint8Array,
  options: { trust: TrustStore; now: Date },
): OpenedBundle | VerifyFailure {
  const bundle = decodeBundle(bytes);
  if (!bundle.ok) return failure("malformed-bundle", "bundle", bundle.reason);
  const opened = openSignedManifest(bundle.parts.signedManifest, options);
  return opened.ok ? { ...opened, images: bundle.parts.images } : opened;
}

/** Opens a bare signed manifest (no bundle around it) up to the schema. */
export function openSignedManifest(
  bytes: Uint8Array,
  options: { trust: TrustStore; now: Date },
): { ok: true; manifest: Manifest; signedBy: string[] } | VerifyFailure {
  const opened = openPayload(bytes, ContentType.manifest, options, decodeManifestPayload);
  return opened.ok ? { ok: true, manifest: opened.value, signedBy: opened.signedBy } : opened;
}

export interface CommandVerifyOptions {
  trust: TrustStore;
  gateway: { id: string };
  /** Sequence of the last accepted command (0 when none); a counter separate from manifests. */
  state: { lastCommandSequence: number };
  now?: Date;
  skewSeconds?: number;
}

/** Verifies a signed command: same envelope and trust as manifests, then gateway, freshness and replay. */
export function verifyCommand(bytes: Uint8Array, options: CommandVerifyOptions): CommandVerifyOutcome {
  const now = options.now ?? new Date();
  const opened = openPayload(bytes, ContentType.command, { trust: options.trust, now }, decodeCommandPayload);
  if (!opened.ok) return opened;
  const command = opened.value;
  const refused = checkCommandPolicy(command, options, now);
  return refused ?? { ok: true, command, signedBy: opened.signedBy };
}

function checkCommandPolicy(
  command: SignedCommand,
  options: CommandVerifyOptions,
  now: Date,
): VerifyFailure | undefined {
  if (command.gateway !== options.gateway.id) {
    return failure(
      "not-for-this-gateway",
      "policy",
      `${command.kind} command is for gateway ${command.gateway}, not ${options.gateway.id}`,
      {
        gateway: options.gateway.id,
        target: command.gateway,
      },
    );
  }
  return (
    checkTimes(`${command.kind} command`, command, now, options.skewSeconds ?? DEFAULT_SKEW_SECONDS) ??
    checkSequence("command", command.sequence, options.state.lastCommandSequence)
  );
}

function openPayload<T>(
  bytes: Uint8Array,
  contentType: ContentTypeValue,
  options: { trust: TrustStore; now: Date },
  decode: (payload: Uint8Array) => PayloadResult<T>,
): { ok: true; value: T; signedBy: string[] } | VerifyFailure {
  const envelope = openEnvelope(bytes, { trust: options.trust, contentType, now: options.now });
  if (!envelope.ok)
    return failure(envelope.code, "envelope", envelope.message, signerDetail(envelope.signers));
  const decoded = decode(envelope.payload);
  if (!decoded.ok) {
    const stage = decoded.code === "bad-payload" ? "decode" : "schema";
    return failure(decoded.code, stage, decoded.message, decoded.path ? { path: decoded.path } : {});
  }
  return { ok: true, value: decoded.value, signedBy: envelope.validKeyIds };
}

function imagesBySlot(manifest: Manifest, images: readonly Uint8Array[]): BundleImages {
  const out = new Map<ModuleType, Partial<Record<SlotName, Uint8Array>>>();
  for (const [type, entry] of Object.entries(manifest.modules)) {
    const slots: Partial<Record<SlotName, Uint8Array>> = {};
    for (const [slot, image] of slotEntries(entry.slots)) {
      if ("inline" in image.source) slots[slot] = images[image.source.inline]!;
    }
    out.set(type, slots);
  }
  return out;
}
