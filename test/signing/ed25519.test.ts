import {
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import fc from "fast-check";
import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import { keyPairFromSeed, sign, verifySignature } from "../../src/signing/ed25519.js";
import { SigningError } from "../../src/signing/errors.js";

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** RFC 8032 §7.1, TEST 1, 2, 3 and TEST SHA(abc). */
const RFC8032 = [
  {
    name: "TEST 1",
    seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    name: "TEST SHA(abc)",
    seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    message:
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    signature:
      "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  },
];

/** node:crypto keys from raw Ed25519 bytes (DER prefixes of RFC 8410). */
function nodePrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
    format: "der",
    type: "pkcs8",
  });
}
function nodePublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]),
    format: "der",
    type: "spki",
  });
}

/** S + L (little-endian 256-bit addition): a malleated copy of a signature that tweetnacl alone accepts. */
function malleate(signature: Uint8Array): Uint8Array {
  const L = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  const out = Uint8Array.from(signature);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = out[32 + i]! + L[i]! + carry;
    out[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  return out;
}

describe("Ed25519 wrapper: RFC 8032 vectors", () => {
  for (const v of RFC8032) {
    it(`derives the public key, reproduces the signature and verifies it (${v.name})`, () => {
      const pair = keyPairFromSeed(hex(v.seed));
      expect(toHex(pair.publicKey)).toBe(v.publicKey);
      expect(toHex(sign(hex(v.message), pair.secretKey))).toBe(v.signature);
      expect(verifySignature(hex(v.message), hex(v.signature), hex(v.publicKey))).toEqual({ valid: true });
    });
  }

  it("has vectors that node:crypto verifies too (so they were transcribed right)", () => {
    for (const v of RFC8032) {
      expect(nodeVerify(null, hex(v.message), nodePublicKey(hex(v.publicKey)), hex(v.signature))).toBe(true);
    }
  });
});

describe("Ed25519 wrapper agrees with node:crypto", () => {
  it("produces node's signatures on random keys and messages, and each verifies the other's", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        (seed, message) => {
          const pair = keyPairFromSeed(seed);
          const ours = sign(message, pair.secretKey);
          const theirs = new Uint8Array(nodeSign(null, message, nodePrivateKey(seed)));
          expect(toHex(ours)).toBe(toHex(theirs));
          expect(nodeVerify(null, message, nodePublicKey(pair.publicKey), ours)).toBe(true);
          expect(verifySignature(message, theirs, pair.publicKey).valid).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("Ed25519 wrapper rejections are results, never exceptions", () => {
  const pair = keyPairFromSeed(hex(RFC8032[1]!.seed));
  const message = Uint8Array.of(0x72);
  const signature = sign(message, pair.secretKey);

  it("names a public key of the wrong length", () => {
    expect(verifySignature(message, signature, pair.publicKey.subarray(0, 31))).toMatchObject({
      valid: false,
      reason: "bad-public-key-length",
    });
  });

  it("names a signature of the wrong length", () => {
    expect(verifySignature(message, signature.subarray(0, 63), pair.publicKey)).toMatchObject({
      valid: false,
      reason: "bad-signature-length",
    });
    expect(verifySignature(message, new Uint8Array(65), pair.publicKey)).toMatchObject({
      valid: false,
      reason: "bad-signature-length",
    });
  });

  it("names arguments that are not byte arrays", () => {
    expect(verifySignature("hello", signature, pair.publicKey)).toMatchObject({
      valid: false,
      reason: "malformed-input",
    });
    expect(verifySignature(message, Array.from(signature), pair.publicKey)).toMatchObject({
      valid: false,
      reason: "malformed-input",
    });
    expect(verifySignature(message, signature, null)).toMatchObject({
      valid: false,
      reason: "malformed-input",
    });
  });

  it("names a signature that does not verify", () => {
    const flipped = Uint8Array.from(signature);
    flipped[5]! ^= 0x01;
    expect(verifySignature(message, flipped, pair.publicKey)).toMatchObject({
      valid: false,
      reason: "bad-signature",
    });
    expect(verifySignature(Uint8Array.of(0x73), signature, pair.publicKey)).toMatchObject({
      valid: false,
      reason: "bad-signature",
    });
  });

  it("refuses a malleated signature (S + L) that tweetnacl by itself accepts", () => {
    const malleated = malleate(signature);
    expect(nacl.sign.detached.verify(message, malleated, pair.publicKey)).toBe(true);
    expect(verifySignature(message, malleated, pair.publicKey)).toMatchObject({
      valid: false,
      reason: "non-canonical-signature",
    });
  });

  it("refuses small-order and non-canonical public keys", () => {
    const identity = hex("0100000000000000000000000000000000000000000000000000000000000000");
    const forged = new Uint8Array(64);
    forged[0] = 1; // R = identity, S = 0
    expect(verifySignature(message, forged, identity)).toMatchObject({
      valid: false,
      reason: "weak-public-key",
    });
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[0] = 0xf0;
    nonCanonical[31] = 0x7f;
    expect(verifySignature(message, signature, nonCanonical)).toMatchObject({
      valid: false,
      reason: "weak-public-key",
    });
  });

  it("throws SigningError bad-key when asked to sign with a key of the wrong length", () => {
    expect(() => sign(message, pair.secretKey.subarray(0, 32))).toThrow(SigningError);
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(/seed must be 32 bytes/);
  });
});
