/**
 * Ed25519 (RFC 8032) through tweetnacl, with exact and uniform semantics.
 *
 * tweetnacl throws on some bad inputs (wrong key or signature length, non-Uint8Array) and returns
 * false on others, and it does not check that a signature's S half is below the group order L, so
 * (R, S + L) verifies as well as (R, S) (dchest/tweetnacl-js nacl-fast.js crypto_sign_open). This
 * wrapper checks lengths itself, refuses non-canonical S (RFC 8032 §5.1.7) and weak public keys,
 * and returns every outcome as one typed result. Even so, nothing in subflash is ever keyed on
 * signature bytes: signers are identified by their key id only.
 */
import { randomBytes } from "node:crypto";
import nacl from "tweetnacl";
import { isBytes } from "./bytes.js";
import { SigningError } from "./errors.js";

export const PUBLIC_KEY_BYTES = 32;
export const SEED_BYTES = 32;
/** tweetnacl's secret key: the 32-byte seed followed by the 32-byte public key. */
export const SECRET_KEY_BYTES = 64;
export const SIGNATURE_BYTES = 64;

export interface Ed25519KeyPair {
  /** The RFC 8032 private key. */
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** seed ‖ publicKey, the form tweetnacl signs with. */
  secretKey: Uint8Array;
}

export type SignatureRejection =
  | "malformed-input" // an argument is not a byte array
  | "bad-public-key-length"
  | "bad-signature-length"
  | "weak-public-key" // a small-order point or a non-canonical encoding: it could vouch for anything
  | "non-canonical-signature" // S >= L: a malleated copy of some signature
  | "bad-signature"; // well-formed, but does not verify over this message with this key

export type SignatureCheck =
  | { readonly valid: true }
  | { readonly valid: false; readonly reason: SignatureRejection; readonly message: string };

const VALID: SignatureCheck = Object.freeze({ valid: true });

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const GROUP_ORDER = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/**
 * y-coordinates (sign bit clear) of the points of small order, the same blocklist libsodium uses.
 * A public key that encodes one of them lets a forger satisfy the verification equation for any
 * message (with the identity as key, R = [S]B works for all messages).
 */
const SMALL_ORDER_Y = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((h) => Uint8Array.from(Buffer.from(h, "hex")));

/** Generates a key pair from 32 bytes of the OS random generator. */
export function generateKeyPair(): Ed25519KeyPair {
  return keyPairFromSeed(new Uint8Array(randomBytes(SEED_BYTES)));
}

/** Derives the key pair of an RFC 8032 private key (seed). Throws SigningError "bad-key" on a wrong length. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (!isBytes(seed) || seed.length !== SEED_BYTES) {
    throw new SigningError(
      "bad-key",
      `Ed25519 seed must be ${SEED_BYTES} bytes, got ${describeLength(seed)}`,
    );
  }
  const pair = nacl.sign.keyPair.fromSeed(seed);
  return { seed: Uint8Array.from(seed), publicKey: pair.publicKey, secretKey: pair.secretKey };
}

/** Signs a message (deterministic, RFC 8032 §5.1.6). Throws SigningError "bad-key" on a wrong secret key length. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!isBytes(secretKey) || secretKey.length !== SECRET_KEY_BYTES) {
    throw new SigningError(
      "bad-key",
      `Ed25519 secret key must be ${SECRET_KEY_BYTES} bytes (seed ‖ public key), got ${describeLength(secretKey)}`,
    );
  }
  if (!isBytes(message)) throw new SigningError("bad-key", "the message to sign must be a Uint8Array");
  return nacl.sign.detached(message, secretKey);
}

/** Verifies a detached signature. Never throws: every problem is a typed rejection. */
export function verifySignature(message: unknown, signature: unknown, publicKey: unknown): SignatureCheck {
  if (!isBytes(message)) return reject("malformed-input", "message must be a Uint8Array");
  if (!isBytes(signature)) return reject("malformed-input", "signature must be a Uint8Array");
  if (!isBytes(publicKey)) return reject("malformed-input", "public key must be a Uint8Array");
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    return reject(
      "bad-public-key-length",
      `public key must be ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`,
    );
  }
  if (signature.length !== SIGNATURE_BYTES) {
    return reject(
      "bad-signature-length",
      `signature must be ${SIGNATURE_BYTES} bytes, got ${signature.length}`,
    );
  }
  const weakness = publicKeyWeakness(publicKey);
  if (weakness) return reject("weak-public-key", weakness);
  if (!isCanonicalScalar(signature.subarray(32))) {
    return reject(
      "non-canonical-signature",
      "signature scalar S is not below the group order (malleated signature)",
    );
  }
  let ok: boolean;
  try {
    ok = nacl.sign.detached.verify(message, signature, publicKey);
  } catch (error) {
    return reject("malformed-input", error instanceof Error ? error.message : String(error));
  }
  return ok ? VALID : reject("bad-signature", "signature does not verify over this message with this key");
}

/**
 * Why a 32-byte public key must not be trusted, or undefined when it is acceptable: a small-order
 * point, or a non-canonical encoding (y >= p), which would give one key two spellings and two ids.
 */
export function publicKeyWeakness(publicKey: Uint8Array): string | undefined {
  const y = Uint8Array.from(publicKey);
  y[31] = y[31]! & 0x7f;
  if (SMALL_ORDER_Y.some((bad) => bad.every((b, i) => b === y[i])))
    return "public key is a point of small order";
  // p = 2^255 - 19 is ed ff … ff 7f little-endian; y >= p means bytes 1..31 are at their maximum and byte 0 >= 0xed.
  if (y[31] === 0x7f && y.subarray(1, 31).every((b) => b === 0xff) && y[0]! >= 0xed) {
    return "public key is not canonically encoded (y >= p)";
  }
  return undefined;
}

/** S < L, comparing little-endian integers from the most significant byte down. */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! !== GROUP_ORDER[i]!) return s[i]! < GROUP_ORDER[i]!;
  }
  return false;
}

function reject(reason: SignatureRejection, message: string): SignatureCheck {
  return { valid: false, reason, message };
}

function describeLength(value: unknown): string {
  return isBytes(value) ? `${value.length} bytes` : typeof value;
}
