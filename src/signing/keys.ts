/** Signing keys and key ids. */
import { toHex } from "./bytes.js";
import { sha256 } from "../util/digest.js";
import { generateKeyPair, keyPairFromSeed, type Ed25519KeyPair } from "./ed25519.js";

/** Bytes of a key id: the first 8 bytes of SHA-256(public key). */
export const KEY_ID_BYTES = 8;
/** How a key id is written: 16 lower-case hex digits. */
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

/** A key that can sign manifests and commands. */
export interface SigningKey extends Ed25519KeyPair {
  /** Key id derived from the public key (see keyId). */
  id: string;
  label?: string;
}

/** The raw key id (COSE `kid`) of a public key: the first 8 bytes of its SHA-256. */
export function keyIdBytes(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, KEY_ID_BYTES);
}

/** The key id of a public key as written in key files, trust stores and messages. */
export function keyId(publicKey: Uint8Array): string {
  return toHex(keyIdBytes(publicKey));
}

/** A signing key from an RFC 8032 seed, or a fresh random one. */
export function createSigningKey(options: { seed?: Uint8Array; label?: string } = {}): SigningKey {
  const pair = options.seed ? keyPairFromSeed(options.seed) : generateKeyPair();
  const key: SigningKey = { ...pair, id: keyId(pair.publicKey) };
  if (options.label !== undefined) key.label = options.label;
  return key;
}
