/**
 * The bundle: one MQTT message carrying a signed manifest and the images it names inline.
 *
 *   bundle = [ "subflash-bundle", 1, signed-manifest: bstr, images: [* bstr] ]
 *
 * The signed manifest travels as a byte string so its exact signed bytes arrive untouched. Images
 * are not under the signature themselves: the manifest carries each one's size, SHA-256 and CRCs,
 * and verification compares them. Like the envelope, a bundle must be in deterministic encoding.
 */
import { concatBytes, equalBytes, isBytes } from "../signing/index.js";
import { decodeCbor, encodeCbor } from "../signing/index.js";
import { MAX_BUNDLE_IMAGES } from "./schema.js";

export const BUNDLE_MAGIC = "subflash-bundle";
export const BUNDLE_VERSION = 1;

export interface BundleParts {
  /** The COSE_Sign1 or COSE_Sign bytes of the manifest. */
  signedManifest: Uint8Array;
  /** Inline images, referenced by index from the manifest's slots. */
  images: Uint8Array[];
}

/** A 4-item array header (0x84) followed by the magic text: the first bytes of every bundle. */
const BUNDLE_HEADER = concatBytes(Uint8Array.of(0x84), encodeCbor(BUNDLE_MAGIC));

export function encodeBundle(parts: BundleParts): Uint8Array {
  return encodeCbor([BUNDLE_MAGIC, BUNDLE_VERSION, parts.signedManifest, parts.images]);
}

/** Whether the bytes start like a bundle (rather than a bare signed manifest). */
export function looksLikeBundle(bytes: Uint8Array): boolean {
  return (
    bytes.length >= BUNDLE_HEADER.length && equalBytes(bytes.subarray(0, BUNDLE_HEADER.length), BUNDLE_HEADER)
  );
}

export function decodeBundle(
  bytes: Uint8Array,
): { ok: true; parts: BundleParts } | { ok: false; reason: string } {
  if (!isBytes(bytes)) return { ok: false, reason: "bundle must be bytes" };
  if (!looksLikeBundle(bytes))
    return {
      ok: false,
      reason: `not a subflash bundle (expected a CBOR array starting with "${BUNDLE_MAGIC}")`,
    };
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return { ok: false, reason: `bundle is not CBOR: ${decoded.reason}` };
  const value = decoded.value;
  if (!Array.isArray(value) || value.length !== 4 || value[0] !== BUNDLE_MAGIC)
    return { ok: false, reason: "not a subflash bundle" };
  const [, version, signedManifest, images] = value as unknown[];
  if (version !== BUNDLE_VERSION)
    return {
      ok: false,
      reason: `bundle version ${String(version)} is not supported (expected ${BUNDLE_VERSION})`,
    };
  if (!isBytes(signedManifest)) return { ok: false, reason: "bundle manifest must be a byte string" };
  if (!Array.isArray(images) || images.length > MAX_BUNDLE_IMAGES) {
    return {
      ok: false,
      reason: `bundle images must be an array of at most ${MAX_BUNDLE_IMAGES} byte strings`,
    };
  }
  if (!images.every(isBytes)) return { ok: false, reason: "bundle images must be byte strings" };
  if (!equalBytes(encodeCbor(value), bytes))
    return { ok: false, reason: "bundle is not in deterministic CBOR encoding" };
  return { ok: true, parts: { signedManifest, images } };
}
