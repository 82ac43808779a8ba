import { describe, expect, it } from "vitest";
import { encodeBundle } from "../../src/manifest/bundle.js";
import { createBundle } from "../../src/manifest/build.js";
import { describeImage } from "../../src/manifest/images.js";
import type { VerifyFailureCode } from "../../src/manifest/outcome.js";
import { encodeManifestPayload } from "../../src/manifest/schema.js";
import type { Manifest, SingleSlot, SlotImage } from "../../src/manifest/types.js";
import { verifyBundle, type VerifyOptions } from "../../src/manifest/verify.js";
import { encodeCbor } from "../../src/signing/cbor.js";
import { ALG_EDDSA, HeaderLabel, createSign1 } from "../../src/signing/cose.js";
import { ContentType, sealEnvelope } from "../../src/signing/envelope.js";
import { keyIdBytes } from "../../src/signing/keys.js";
import {
  NOW,
  NOW_S,
  alice,
  bob,
  gatewayOptions,
  mallory,
  rawBundle,
  sampleRelease,
  trust,
} from "./fixtures.js";

const release = sampleRelease();
const good = createBundle({ ...release, keys: [alice] });

/** The sample manifest with a change (a deep copy, so the fixture stays intact). */
function changed(edit: (m: Manifest) => void): Manifest {
  const copy = structuredClone(release.manifest);
  edit(copy);
  return copy;
}

function expectRefused(
  bytes: Uint8Array,
  code: VerifyFailureCode,
  message: RegExp,
  options: Partial<VerifyOptions> = {},
) {
  const outcome = verifyBundle(bytes, gatewayOptions(options));
  expect(outcome).toMatchObject({ ok: false, code });
  if (!outcome.ok) expect(outcome.message).toMatch(message);
  return outcome;
}

describe("verifyBundle accepts", () => {
  it("a bundle for this gateway, returning the manifest and each slot's verified bytes", () => {
    const outcome = verifyBundle(good, gatewayOptions());
    if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
    expect(outcome.manifest).toEqual(release.manifest);
    expect(outcome.signedBy).toEqual([alice.id]);
    const bytesOf = (image: Uint8Array | undefined): number[] => Array.from(image ?? []);
    expect(bytesOf(outcome.images.get("power")?.single)).toEqual(bytesOf(release.images[0]));
    expect(bytesOf(outcome.images.get("radio")?.a)).toEqual(bytesOf(release.images[1]));
    expect(bytesOf(outcome.images.get("radio")?.b)).toEqual(bytesOf(release.images[2]));
  });

  it("a bundle for one of this gateway's groups", () => {
    const bundle = rawBundle(
      changed((m) => (m.targets = { gateways: [], groups: ["lab"] })),
      release.images,
    );
    expect(
      verifyBundle(bundle, gatewayOptions({ gateway: { id: "gw-999", groups: ["field", "lab"] } })).ok,
    ).toBe(true);
  });

  it("a bundle signed by k of n trusted keys (COSE_Sign)", () => {
    const bundle = createBundle({ ...release, keys: [alice, mallory, bob] });
    const outcome = verifyBundle(bundle, gatewayOptions({ trust: { ...trust, threshold: 2 } }));
    expect(outcome).toMatchObject({ ok: true, signedBy: [alice.id, bob.id] });
  });

  it("a manifest issued slightly in the future or just expired, within the allowed clock skew", () => {
    const early = rawBundle(
      changed((m) => (m.issuedAt = NOW_S + 200)),
      release.images,
    );
    expect(verifyBundle(early, gatewayOptions()).ok).toBe(true);
    const late = rawBundle(
      changed((m) => (m.expires = NOW_S - 200)),
      release.images,
    );
    expect(verifyBundle(late, gatewayOptions()).ok).toBe(true);
    expect(verifyBundle(late, gatewayOptions({ skewSeconds: 0 }))).toMatchObject({
      ok: false,
      code: "expired",
    });
  });

  it("a dependency on a module type outside the bundle that is installed at a high enough version", () => {
    const onlyRadio = changed((m) => delete (m.modules as Record<string, unknown>).power);
    const images = [release.images[1]!, release.images[2]!];
    onlyRadio.modules.radio!.slots = {
      a: describeImage(images[0]!, { address: 0x08020000, source: { inline: 0 } }),
      b: describeImage(images[1]!, { address: 0x08080000, source: { inline: 1 } }),
    };
    const bundle = rawBundle(onlyRadio, images);
    const state = { lastSequence: 0, securityFloors: {}, installedVersions: { power: "2.0.1" } };
    expect(verifyBundle(bundle, gatewayOptions({ state })).ok).toBe(true);
    expectRefused(bundle, "dependency-unsatisfied", /radio needs power ≥ 2\.0\.0, installed is 1\.9\.9/, {
      state: { ...state, installedVersions: { power: "1.9.9" } },
    });
    expectRefused(bundle, "dependency-unsatisfied", /neither in the bundle nor installed/, {
      state: { ...state, installedVersions: {} },
    });
  });

  it("slots fetched from a URL, which are absent from the returned images", () => {
    const m = changed(
      (x) =>
        (x.modules.power!.slots = {
          single: {
            ...describeImage(release.images[0]!, {
              address: 0x08000000,
              source: { url: "https://cdn.example.com/p.bin" },
            }),
          },
        }),
    );
    m.modules.radio!.slots = {
      a: describeImage(release.images[1]!, { address: 0x08020000, source: { inline: 0 } }),
      b: describeImage(release.images[2]!, { address: 0x08080000, source: { inline: 1 } }),
    };
    const outcome = verifyBundle(rawBundle(m, [release.images[1]!, release.images[2]!]), gatewayOptions());
    if (!outcome.ok) throw new Error(outcome.message);
    expect(outcome.images.get("power")).toEqual({});
  });
});

describe("verifyBundle refuses, with the reason named", () => {
  it("malformed-bundle: bytes that are no bundle, another bundle version, images that are not byte strings", () => {
    expectRefused(Uint8Array.of(1, 2, 3), "malformed-bundle", /not a subflash bundle/);
    expectRefused(
      encodeCbor(["subflash-bundle", 2, new Uint8Array(1), []]),
      "malformed-bundle",
      /bundle version 2/,
    );
    expectRefused(
      encodeCbor(["subflash-bundle", 1, new Uint8Array(1), ["text"]]),
      "malformed-bundle",
      /byte strings/,
    );
  });

  it("malformed-envelope: a bundle whose manifest is not a COSE signature", () => {
    const outcome = expectRefused(
      encodeBundle({ signedManifest: Uint8Array.of(0xa0), images: [] }),
      "malformed-envelope",
      /not a tagged COSE/,
    );
    expect(outcome.ok === false && outcome.stage).toBe("envelope");
  });

  it("unknown-key: signed by a key the trust store does not list", () => {
    expectRefused(createBundle({ ...release, keys: [mallory] }), "unknown-key", new RegExp(mallory.id));
  });

  it("bad-signature: one byte of the signed manifest changed", () => {
    const bundle = Uint8Array.from(good);
    const at = Buffer.from(bundle).indexOf(Buffer.from("lab-2026.1"));
    bundle[at]! ^= 0x20; // "lab" → "Lab"
    expectRefused(bundle, "bad-signature", new RegExp(alice.id));
  });

  it("below-threshold: one valid signature where two are required", () => {
    expectRefused(good, "below-threshold", /1 valid signature\(s\) from trusted keys, 2 required/, {
      trust: { ...trust, threshold: 2 },
    });
  });

  it("key-not-valid: signed by a trusted key outside its validity window", () => {
    const expiredKey = {
      ...trust,
      keys: [{ id: alice.id, publicKey: alice.publicKey, notAfter: new Date(NOW.getTime() - 1000) }],
    };
    expectRefused(good, "key-not-valid", /outside its validity window/, { trust: expiredKey });
  });

  it("unsupported-algorithm: a signer declaring another algorithm than EdDSA", () => {
    const es256 = createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, -7],
        [HeaderLabel.contentType, ContentType.manifest],
        [HeaderLabel.kid, keyIdBytes(alice.publicKey)],
      ]),
      payload: encodeManifestPayload(release.manifest),
      secretKey: alice.secretKey,
    });
    expectRefused(
      encodeBundle({ signedManifest: es256, images: release.images }),
      "unsupported-algorithm",
      /only EdDSA/,
    );
    expect(ALG_EDDSA).toBe(-8);
  });

  it("wrong-content-type: a signed command carried as a manifest", () => {
    const command = sealEnvelope(encodeManifestPayload(release.manifest), ContentType.command, [alice]);
    expectRefused(
      encodeBundle({ signedManifest: command, images: release.images }),
      "wrong-content-type",
      /expected application\/vnd\.subflash\.manifest\+cbor/,
    );
  });

  it("bad-payload: a correctly signed payload that is not CBOR", () => {
    const outcome = expectRefused(
      encodeBundle({
        signedManifest: sealEnvelope(Uint8Array.of(0x19, 0x01), ContentType.manifest, [alice]),
        images: [],
      }),
      "bad-payload",
      /not CBOR/,
    );
    expect(outcome.ok === false && outcome.stage).toBe("decode");
  });

  it("unsupported-version: a manifest of a newer format", () => {
    const payload = encodeCbor(
      new Map<number, unknown>([
        [0, 2],
        [1, 43],
      ]),
    );
    expectRefused(
      encodeBundle({ signedManifest: sealEnvelope(payload, ContentType.manifest, [alice]), images: [] }),
      "unsupported-version",
      /format version 2/,
    );
  });

  it("schema-violation: a field of the wrong type, naming its path", () => {
    const payload = encodeCbor(
      new Map<number, unknown>([
        [0, 1],
        [1, "forty-two"],
      ]),
    );
    const outcome = expectRefused(
      encodeBundle({ signedManifest: sealEnvelope(payload, ContentType.manifest, [alice]), images: [] }),
      "schema-violation",
      /manifest\.sequence/,
    );
    expect(outcome.ok === false && outcome.stage).toBe("schema");
  });

  it("not-for-this-gateway: neither this gateway nor one of its groups is targeted", () => {
    const outcome = expectRefused(good, "not-for-this-gateway", /not gateway gw-002/, {
      gateway: { id: "gw-002", groups: ["field"] },
    });
    expect(outcome.ok === false && outcome.stage).toBe("policy");
  });

  it("expired: at or after its expiry", () => {
    expectRefused(
      rawBundle(
        changed((m) => (m.expires = NOW_S - 301)),
        release.images,
      ),
      "expired",
      /expired at/,
    );
  });

  it("not-yet-valid: issued in the future beyond the allowed skew", () => {
    expectRefused(
      rawBundle(
        changed((m) => (m.issuedAt = NOW_S + 301)),
        release.images,
      ),
      "not-yet-valid",
      /check the clocks/,
    );
  });

  it("replayed: a sequence not greater than the last accepted one", () => {
    expectRefused(good, "replayed", /sequence 42 is not greater than the last accepted 42/, {
      state: { lastSequence: 42, securityFloors: {}, installedVersions: {} },
    });
  });

  it("downgrade: a module's security version below its floor", () => {
    expectRefused(good, "downgrade", /module radio: security version 3 is below its floor 4/, {
      state: { lastSequence: 0, securityFloors: { radio: 4 }, installedVersions: {} },
    });
  });

  it("wrong-device: an image for another chip than the gateway's config declares", () => {
    expectRefused(
      good,
      "wrong-device",
      /module radio: image is for PID 0x413, this gateway's radio is 0x460/,
      { moduleTypes: { radio: { pid: 0x460 } } },
    );
  });

  it("slot-mismatch: A/B images for a module the gateway has as single-slot", () => {
    expectRefused(
      good,
      "slot-mismatch",
      /module radio: the manifest has a and b slot images, this gateway's radio has single/,
      {
        moduleTypes: { radio: { slots: { single: { size: 0x10000 } } } },
      },
    );
  });

  it("image-too-large: an image bigger than its slot", () => {
    expectRefused(
      good,
      "image-too-large",
      /module power slot single: image of 1000 bytes does not fit the 512-byte slot/,
      {
        moduleTypes: { power: { slots: { single: { size: 512 } } } },
      },
    );
  });

  it("outside-slot: an image whose address range leaves its slot", () => {
    expectRefused(good, "outside-slot", /module radio slot b/, {
      moduleTypes: {
        radio: {
          slots: { a: { address: 0x08020000, size: 0x20000 }, b: { address: 0x08040000, size: 0x20000 } },
        },
      },
    });
  });

  it("dependency-unsatisfied: the bundle brings a dependency below the minimum version", () => {
    expectRefused(
      rawBundle(
        changed((m) => (m.modules.power!.version = "1.9.0")),
        release.images,
      ),
      "dependency-unsatisfied",
      /radio needs power ≥ 2\.0\.0, the bundle brings 1\.9\.0/,
    );
  });

  it("dependency-cycle: module types that depend on each other", () => {
    const cyclic = changed((m) =>
      m.modules.power!.dependsOn.push({ moduleType: "radio", minVersion: "1.0.0" }),
    );
    expectRefused(
      rawBundle(cyclic, release.images),
      "dependency-cycle",
      /dependency cycle: power → radio → power/,
    );
  });

  it("dependency-order: a module ordered with (not after) a module it depends on", () => {
    expectRefused(
      rawBundle(
        changed((m) => (m.modules.radio!.order = 0)),
        release.images,
      ),
      "dependency-order",
      /must come strictly first/,
    );
  });

  it("bundle-mismatch: an inline image missing, or one the manifest does not name", () => {
    expectRefused(
      rawBundle(release.manifest, release.images.slice(0, 2)),
      "bundle-mismatch",
      /module radio slot b: inline image #2 is not in the bundle/,
    );
    expectRefused(
      rawBundle(release.manifest, [...release.images, Uint8Array.of(1)]),
      "bundle-mismatch",
      /image\(s\) #3 that the manifest does not name/,
    );
  });

  it("size-mismatch: image bytes of another length than the manifest says", () => {
    const images = [Uint8Array.from([...release.images[0]!, 0]), ...release.images.slice(1)];
    expectRefused(
      rawBundle(release.manifest, images),
      "size-mismatch",
      /module power slot single: image is 1001 bytes, the manifest says 1000/,
    );
  });

  it("digest-mismatch: image bytes changed, length kept", () => {
    const images = release.images.map((i) => Uint8Array.from(i));
    images[1]![500]! ^= 0xff;
    expectRefused(rawBundle(release.manifest, images), "digest-mismatch", /module radio slot a: SHA-256/);
  });

  it("crc-mismatch: a CRC-32 or STM32 CRC that does not match the bytes", () => {
    const withPowerImage = (edit: (image: SlotImage) => void): Uint8Array =>
      rawBundle(
        changed((m) => edit((m.modules.power!.slots as SingleSlot).single)),
        release.images,
      );
    expectRefused(
      withPowerImage((image) => (image.crc32 = (image.crc32 ^ 1) >>> 0)),
      "crc-mismatch",
      /CRC-32/,
    );
    expectRefused(
      withPowerImage((image) => (image.stm32Crc = (image.stm32Crc ^ 1) >>> 0)),
      "crc-mismatch",
      /STM32 CRC/,
    );
  });
});

describe("verifyBundle checks in order", () => {
  it("checks signatures before time: an expired bundle from an unknown key is unknown-key", () => {
    expectRefused(
      rawBundle(
        changed((m) => (m.expires = NOW_S - 10_000)),
        release.images,
        [mallory],
      ),
      "unknown-key",
      /no trusted key/,
    );
  });

  it("checks the target before anything about the images", () => {
    const images = release.images.map((i) => Uint8Array.from(i));
    images[0]![0]! ^= 1;
    expectRefused(rawBundle(release.manifest, images), "not-for-this-gateway", /gw-002/, {
      gateway: { id: "gw-002", groups: [] },
    });
  });

  it("checks replay before the security floor", () => {
    expectRefused(good, "replayed", /sequence/, {
      state: { lastSequence: 100, securityFloors: { radio: 99 }, installedVersions: {} },
    });
  });
});
