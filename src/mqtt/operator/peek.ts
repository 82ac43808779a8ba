/**
 * What an operator is about to publish, read WITHOUT verifying signatures (the gateway verifies;
 * this only lets `subflash publish` refuse a file that is not a bundle at all, show the release and
 * sequence, and wait for that very bundle's outcome).
 */
import { decodeBundle, looksLikeBundle } from "../../manifest/index.js";
import { decodeManifestPayload } from "../../manifest/index.js";
import type { Manifest } from "../../manifest/index.js";
import { decodeCose } from "../../signing/index.js";

export type BundlePeek = { ok: true; manifest: Manifest; images: number } | { ok: false; reason: string };

export function peekBundle(bytes: Uint8Array): BundlePeek {
  if (!looksLikeBundle(bytes)) {
    const bare = decodeCose(bytes).ok;
    return {
      ok: false,
      reason: bare
        ? "a bare signed manifest or command, not a bundle (publish the output of `subflash release create`)"
        : "not a subflash bundle",
    };
  }
  const bundle = decodeBundle(bytes);
  if (!bundle.ok) return { ok: false, reason: bundle.reason };
  const cose = decodeCose(bundle.parts.signedManifest);
  if (!cose.ok) return { ok: false, reason: `manifest envelope: ${cose.reason}` };
  const manifest = decodeManifestPayload(cose.message.payload);
  if (!manifest.ok) return { ok: false, reason: `manifest: ${manifest.message}` };
  return { ok: true, manifest: manifest.value, images: bundle.parts.images.length };
}
