/** A small, valid release and the means to break it one field at a time. */
import { encodeBundle } from "../../src/manifest/bundle.js";
import { describeImage } from "../../src/manifest/images.js";
import { encodeManifestPayload } from "../../src/manifest/schema.js";
import { FORMAT_VERSION, type Manifest } from "../../src/manifest/types.js";
import type { VerifyOptions } from "../../src/manifest/verify.js";
import { ContentType, sealEnvelope } from "../../src/signing/envelope.js";
import { createSigningKey, type SigningKey } from "../../src/signing/keys.js";
import type { TrustStore } from "../../src/signing/trust-store.js";

export const alice = createSigningKey({ seed: new Uint8Array(32).fill(1), label: "alice" });
export const bob = createSigningKey({ seed: new Uint8Array(32).fill(2), label: "bob" });
export const mallory = createSigningKey({ seed: new Uint8Array(32).fill(9), label: "mallory" });

export const trust: TrustStore = {
  threshold: 1,
  keys: [alice, bob].map((k) => ({ id: k.id, publicKey: k.publicKey })),
};

export const NOW = new Date("2026-03-01T12:00:00Z");
export const NOW_S = Math.floor(NOW.getTime() / 1000);

export function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17 + (i >> 8)) & 0xff);
}

/** power: single slot (inline #0); radio: A/B (inline #1, #2), depends on power ≥ 2.0.0. */
export function sampleRelease(sizes = { power: 1000, radio: 777 }): {
  manifest: Manifest;
  images: Uint8Array[];
} {
  const images = [pattern(sizes.power, 1), pattern(sizes.radio, 2), pattern(sizes.radio, 3)];
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    sequence: 42,
    issuedAt: NOW_S - 3600,
    expires: NOW_S + 86400,
    targets: { gateways: ["gw-001"], groups: ["lab"] },
    release: "lab-2026.1",
    policy: { atomicity: "all-or-nothing", parallelism: 2 },
    modules: {
      power: {
        version: "2.1.0",
        securityVersion: 1,
        slots: { single: describeImage(images[0]!, { address: 0x08000000, source: { inline: 0 } }) },
        order: 0,
        dependsOn: [],
        device: { pid: 0x460 },
      },
      radio: {
        version: "1.4.2",
        securityVersion: 3,
        slots: {
          a: describeImage(images[1]!, { address: 0x08020000, source: { inline: 1 } }),
          b: describeImage(images[2]!, { address: 0x08080000, source: { inline: 2 } }),
        },
        order: 1,
        dependsOn: [{ moduleType: "power", minVersion: "2.0.0" }],
        device: { pid: 0x413 },
      },
    },
  };
  return { manifest, images };
}

/** Signs and bundles without any of the builders' checks, so tests can make what a gateway must refuse. */
export function rawBundle(
  manifest: Manifest,
  images: readonly Uint8Array[],
  signers: readonly SigningKey[] = [alice],
): Uint8Array {
  return encodeBundle({ signedManifest: rawSignedManifest(manifest, signers), images: [...images] });
}

export function rawSignedManifest(manifest: Manifest, signers: readonly SigningKey[] = [alice]): Uint8Array {
  return sealEnvelope(encodeManifestPayload(manifest), ContentType.manifest, signers);
}

/** What gateway gw-001 (group lab) passes to verifyBundle, with nothing installed yet. */
export function gatewayOptions(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    trust,
    gateway: { id: "gw-001", groups: ["lab"] },
    state: { lastSequence: 41, securityFloors: {}, installedVersions: {} },
    now: NOW,
    ...overrides,
  };
}
