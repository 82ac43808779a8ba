/**
 * Builders for the release tooling and the operator CLI: encode, sign, bundle. Every builder first
 * checks its input the way the gateway will (schema, image digests, bundle layout) and throws
 * ManifestError "invalid-manifest" rather than sign something that would be refused.
 */
import { ContentType, sealEnvelope } from "../signing/index.js";
import type { SigningKey } from "../signing/index.js";
import { encodeBundle } from "./bundle.js";
import { ManifestError } from "./errors.js";
import { checkImage } from "./images.js";
import { findDependencyProblem } from "./dependencies.js";
import {
  decodeCommandPayload,
  decodeManifestPayload,
  encodeCommandPayload,
  encodeManifestPayload,
} from "./schema.js";
import { slotEntries, type Manifest, type SignedCommand } from "./types.js";

/** The CBOR payload of a manifest, after checking it against the schema. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const payload = encodeManifestPayload(manifest);
  const check = decodeManifestPayload(payload);
  if (!check.ok)
    throw new ManifestError("invalid-manifest", `manifest would be refused: ${check.message}`, {
      path: check.path,
    });
  const dependencies = findDependencyProblem(manifest);
  if (dependencies)
    throw new ManifestError(
      "invalid-manifest",
      `manifest would be refused: ${dependencies.message}`,
      dependencies.detail,
    );
  return payload;
}

/** A signed manifest (COSE_Sign1 for one key, COSE_Sign for several). */
export function signManifest(manifest: Manifest, keys: readonly SigningKey[]): Uint8Array {
  return sealEnvelope(encodeManifest(manifest), ContentType.manifest, keys);
}

/**
 * A signed bundle carrying the manifest and its inline images (index i of `images` is
 * `source: { inline: i }`). Checks that every inline image is present, matches its description,
 * and that no image is left unnamed.
 */
export function createBundle(input: {
  manifest: Manifest;
  images: readonly Uint8Array[];
  keys: readonly SigningKey[];
}): Uint8Array {
  const used = new Set<number>();
  for (const [type, entry] of Object.entries(input.manifest.modules)) {
    for (const [slot, image] of slotEntries(entry.slots)) {
      if (!("inline" in image.source)) continue;
      const bytes = input.images[image.source.inline];
      if (!bytes)
        throw new ManifestError(
          "invalid-manifest",
          `module ${type} slot ${slot}: inline image #${image.source.inline} not supplied`,
          { moduleType: type, slot },
        );
      const check = checkImage(image, bytes);
      if (!check.ok)
        throw new ManifestError("invalid-manifest", `module ${type} slot ${slot}: ${check.message}`, {
          moduleType: type,
          slot,
        });
      used.add(image.source.inline);
    }
  }
  if (used.size !== input.images.length) {
    throw new ManifestError(
      "invalid-manifest",
      `${input.images.length - used.size} supplied image(s) are not named by any slot`,
    );
  }
  return encodeBundle({
    signedManifest: signManifest(input.manifest, input.keys),
    images: [...input.images],
  });
}

/** The CBOR payload of a command, after checking it against the schema. */
export function encodeCommand(command: SignedCommand): Uint8Array {
  const payload = encodeCommandPayload(command);
  const check = decodeCommandPayload(payload);
  if (!check.ok)
    throw new ManifestError("invalid-manifest", `command would be refused: ${check.message}`, {
      path: check.path,
    });
  return payload;
}

/** A signed command (rollback, cancel, retry), in the same envelope as manifests. */
export function signCommand(command: SignedCommand, keys: readonly SigningKey[]): Uint8Array {
  return sealEnvelope(encodeCommand(command), ContentType.command, keys);
}
