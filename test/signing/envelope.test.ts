import { describe, expect, it } from "vitest";
import { encodeCbor, Tag } from "../../src/signing/cbor.js";
import { ALG_EDDSA, HeaderLabel, createSign, createSign1, decodeCose } from "../../src/signing/cose.js";
import {
  ContentType,
  openEnvelope,
  sealEnvelope,
  type ContentTypeValue,
} from "../../src/signing/envelope.js";
import { createSigningKey, keyIdBytes, type SigningKey } from "../../src/signing/keys.js";
import type { TrustStore } from "../../src/signing/trust-store.js";

const seeded = (n: number, label?: string): SigningKey =>
  createSigningKey({ seed: new Uint8Array(32).fill(n), ...(label && { label }) });
const alice = seeded(1, "alice");
const bob = seeded(2, "bob");
const carol = seeded(3, "carol");
const mallory = seeded(9, "mallory");
const now = new Date("2026-03-01T12:00:00Z");
const payload = Uint8Array.of(0xa1, 0x00, 0x01);

const trust = (threshold: number, keys: SigningKey[] = [alice, bob, carol]): TrustStore => ({
  threshold,
  keys: keys.map((k) => ({ id: k.id, publicKey: k.publicKey })),
});
const open = (bytes: Uint8Array, store: TrustStore, contentType: ContentTypeValue = ContentType.manifest) =>
  openEnvelope(bytes, { trust: store, contentType, now });

describe("sealEnvelope", () => {
  it("makes a COSE_Sign1 with alg, content type and kid in the protected header for one key", () => {
    const decoded = decodeCose(sealEnvelope(payload, ContentType.manifest, [alice]));
    if (!decoded.ok || decoded.message.kind !== "sign1") throw new Error("not a COSE_Sign1");
    const header = decoded.message.protectedHeader;
    expect(header.get(HeaderLabel.alg)).toBe(ALG_EDDSA);
    expect(header.get(HeaderLabel.contentType)).toBe(ContentType.manifest);
    expect(Buffer.from(header.get(HeaderLabel.kid) as Uint8Array).toString("hex")).toBe(alice.id);
    expect(decoded.message.unprotectedHeader.size).toBe(0);
  });

  it("makes a COSE_Sign with one signature per key for several keys", () => {
    const decoded = decodeCose(sealEnvelope(payload, ContentType.manifest, [alice, bob]));
    if (!decoded.ok || decoded.message.kind !== "sign") throw new Error("not a COSE_Sign");
    expect(
      decoded.message.signatures.map((s) =>
        Buffer.from(s.protectedHeader.get(HeaderLabel.kid) as Uint8Array).toString("hex"),
      ),
    ).toEqual([alice.id, bob.id]);
  });

  it("refuses no key and the same key twice", () => {
    expect(() => sealEnvelope(payload, ContentType.manifest, [])).toThrow(/at least one/);
    expect(() => sealEnvelope(payload, ContentType.manifest, [alice, alice])).toThrow(/distinct key/);
  });
});

describe("openEnvelope", () => {
  it("hands out the exact payload and the signer ids when the threshold is met", () => {
    const result = open(sealEnvelope(payload, ContentType.manifest, [alice, bob]), trust(2));
    expect(result).toMatchObject({ ok: true, validKeyIds: [alice.id, bob.id] });
    if (result.ok) expect(Array.from(result.payload)).toEqual(Array.from(payload));
  });

  it("accepts k of n with signatures from untrusted keys ignored", () => {
    expect(
      open(sealEnvelope(payload, ContentType.manifest, [mallory, alice, carol]), trust(2)),
    ).toMatchObject({ ok: true, validKeyIds: [alice.id, carol.id] });
  });

  it("refuses with unknown-key when no signer is trusted", () => {
    expect(open(sealEnvelope(payload, ContentType.manifest, [mallory]), trust(1))).toMatchObject({
      ok: false,
      code: "unknown-key",
    });
  });

  it("refuses with bad-signature when a trusted key's signature does not verify", () => {
    const bytes = sealEnvelope(payload, ContentType.manifest, [alice]);
    const tampered = Uint8Array.from(bytes);
    tampered[tampered.length - 67]! ^= 0x01; // last payload byte, just before the signature (2-byte header + 64 bytes)
    expect(open(tampered, trust(1))).toMatchObject({
      ok: false,
      code: "bad-signature",
      signers: [{ keyId: alice.id, status: "bad-signature" }],
    });
  });

  it("refuses with below-threshold when fewer distinct trusted keys signed than required", () => {
    expect(open(sealEnvelope(payload, ContentType.manifest, [alice, mallory]), trust(2))).toMatchObject({
      ok: false,
      code: "below-threshold",
    });
  });

  it("fails closed on a trust store built in code with a threshold below 1", () => {
    const bytes = sealEnvelope(payload, ContentType.manifest, [mallory]);
    for (const threshold of [0, -1, Number.NaN, 0.5])
      expect(open(bytes, { ...trust(1), threshold })).toMatchObject({ ok: false });
    expect(
      open(sealEnvelope(payload, ContentType.manifest, [alice]), { ...trust(1), threshold: 0 }),
    ).toMatchObject({ ok: false, code: "below-threshold" });
  });

  it("counts one key once even when it signs twice", () => {
    const headers = {
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.kid, keyIdBytes(alice.publicKey)],
      ]),
    };
    const twice = createSign({
      protectedHeader: new Map([[HeaderLabel.contentType, ContentType.manifest]]),
      payload,
      signers: [
        { ...headers, secretKey: alice.secretKey },
        { ...headers, secretKey: alice.secretKey },
      ],
    });
    expect(open(twice, trust(2))).toMatchObject({ ok: false, code: "below-threshold" });
  });

  it("names bad-signature over below-threshold when one trusted signature is forged", () => {
    const bytes = sealEnvelope(payload, ContentType.manifest, [alice, bob]);
    const decoded = decodeCose(bytes);
    if (!decoded.ok || decoded.message.kind !== "sign") throw new Error("not a COSE_Sign");
    const at = Buffer.from(bytes).indexOf(Buffer.from(decoded.message.signatures[1]!.signature));
    const tampered = Uint8Array.from(bytes);
    tampered[at + 3]! ^= 0x40;
    expect(open(tampered, trust(2))).toMatchObject({ ok: false, code: "bad-signature" });
  });

  it("refuses with key-not-valid outside the key's validity window", () => {
    const store: TrustStore = {
      threshold: 1,
      keys: [
        {
          id: alice.id,
          publicKey: alice.publicKey,
          notBefore: new Date("2026-01-01T00:00:00Z"),
          notAfter: new Date("2026-02-01T00:00:00Z"),
        },
      ],
    };
    expect(open(sealEnvelope(payload, ContentType.manifest, [alice]), store)).toMatchObject({
      ok: false,
      code: "key-not-valid",
    });
    const inside = openEnvelope(sealEnvelope(payload, ContentType.manifest, [alice]), {
      trust: store,
      contentType: ContentType.manifest,
      now: new Date("2026-01-15T00:00:00Z"),
    });
    expect(inside.ok).toBe(true);
  });

  it("refuses with wrong-content-type a signed command presented as a manifest", () => {
    const command = sealEnvelope(payload, ContentType.command, [alice]);
    expect(open(command, trust(1), ContentType.manifest)).toMatchObject({
      ok: false,
      code: "wrong-content-type",
    });
    expect(open(command, trust(1), ContentType.command).ok).toBe(true);
  });

  it("refuses with unsupported-algorithm a signer that declares another algorithm", () => {
    const es256 = createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, -7],
        [HeaderLabel.contentType, ContentType.manifest],
        [HeaderLabel.kid, keyIdBytes(alice.publicKey)],
      ]),
      payload,
      secretKey: alice.secretKey,
    });
    expect(open(es256, trust(1))).toMatchObject({ ok: false, code: "unsupported-algorithm" });
  });

  it("refuses with malformed-envelope anything in an unprotected header, and crit", () => {
    const withKidOutside = createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.contentType, ContentType.manifest],
      ]),
      unprotectedHeader: new Map([[HeaderLabel.kid, keyIdBytes(alice.publicKey)]]),
      payload,
      secretKey: alice.secretKey,
    });
    expect(open(withKidOutside, trust(1))).toMatchObject({ ok: false, code: "malformed-envelope" });
    const withCrit = createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.crit, [99]],
        [HeaderLabel.contentType, ContentType.manifest],
        [HeaderLabel.kid, keyIdBytes(alice.publicKey)],
      ]),
      payload,
      secretKey: alice.secretKey,
    });
    expect(open(withCrit, trust(1))).toMatchObject({ ok: false, code: "malformed-envelope" });
  });

  it("refuses with malformed-envelope garbage and other CBOR", () => {
    expect(open(Uint8Array.of(1, 2, 3), trust(1))).toMatchObject({ ok: false, code: "malformed-envelope" });
    expect(open(encodeCbor(new Tag("x", 18)), trust(1))).toMatchObject({
      ok: false,
      code: "malformed-envelope",
    });
  });
});
