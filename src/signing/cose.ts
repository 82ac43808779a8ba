/**
 * COSE signing structures (RFC 9052): COSE_Sign1 (tag 18, one signer) and COSE_Sign (tag 98, one
 * or more signers), with EdDSA (alg -8, RFC 9053 §2.2) over Ed25519.
 *
 * Decoding keeps the protected headers as the exact bytes received, because signatures cover those
 * bytes (the Sig_structure, RFC 9052 §4.4), never a re-encoding of them. Messages must be tagged
 * and in deterministic encoding (RFC 8949 §4.2.1: definite lengths, shortest forms), so a message
 * has one spelling only; the published COSE examples are.
 */
import { equalBytes, isBytes } from "./bytes.js";
import { Tag, decodeCbor, encodeCbor } from "./cbor.js";
import { sign, verifySignature, type SignatureCheck } from "./ed25519.js";

export const COSE_SIGN1_TAG = 18;
export const COSE_SIGN_TAG = 98;

/** Common header parameter labels (RFC 9052 §3.1). */
export const HeaderLabel = { alg: 1, crit: 2, contentType: 3, kid: 4 } as const;
/** EdDSA (RFC 9053 §2.2). */
export const ALG_EDDSA = -8;

export type HeaderLabelValue = number | string;
export type HeaderMap = ReadonlyMap<HeaderLabelValue, unknown>;

/** One signer of a COSE_Sign, or the header/signature part of a COSE_Sign1. */
export interface CoseSignature {
  /** The protected header exactly as carried (a serialized map, or empty). */
  protectedBytes: Uint8Array;
  protectedHeader: HeaderMap;
  unprotectedHeader: HeaderMap;
  signature: Uint8Array;
}

export interface CoseSign1Message extends CoseSignature {
  kind: "sign1";
  payload: Uint8Array;
}

export interface CoseSignMessage {
  kind: "sign";
  protectedBytes: Uint8Array;
  protectedHeader: HeaderMap;
  unprotectedHeader: HeaderMap;
  payload: Uint8Array;
  signatures: CoseSignature[];
}

export type CoseMessage = CoseSign1Message | CoseSignMessage;

export interface SignerInput {
  protectedHeader: HeaderMap;
  unprotectedHeader?: HeaderMap;
  /** tweetnacl's 64-byte secret key (seed ‖ public key). */
  secretKey: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const EMPTY_MAP: HeaderMap = new Map();

/** A header map in deterministic key order (bytewise order of the encoded labels). */
function canonicalMap(header: HeaderMap): Map<HeaderLabelValue, unknown> {
  const entries = [...header].map(([label, value]) => ({ label, value, key: encodeCbor(label) }));
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  return new Map(entries.map((e) => [e.label, e.value]));
}

/** Serializes a protected header: a zero-length byte string when it is empty (RFC 9052 §3). */
export function encodeProtectedHeader(header: HeaderMap): Uint8Array {
  return header.size === 0 ? EMPTY : encodeCbor(canonicalMap(header));
}

/** The bytes a COSE_Sign1 signature covers: Sig_structure ["Signature1", protected, external_aad, payload]. */
export function sign1ToBeSigned(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  return encodeCbor(["Signature1", protectedBytes, externalAad, payload]);
}

/** The bytes one COSE_Sign signature covers: ["Signature", body protected, signer protected, external_aad, payload]. */
export function signToBeSigned(
  bodyProtected: Uint8Array,
  signerProtected: Uint8Array,
  payload: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  return encodeCbor(["Signature", bodyProtected, signerProtected, externalAad, payload]);
}

/** Builds and signs a tagged COSE_Sign1. */
export function createSign1(
  input: SignerInput & { payload: Uint8Array; externalAad?: Uint8Array },
): Uint8Array {
  const protectedBytes = encodeProtectedHeader(input.protectedHeader);
  const signature = sign(sign1ToBeSigned(protectedBytes, input.payload, input.externalAad), input.secretKey);
  const body = [protectedBytes, canonicalMap(input.unprotectedHeader ?? EMPTY_MAP), input.payload, signature];
  return encodeCbor(new Tag(body, COSE_SIGN1_TAG));
}

/** Builds and signs a tagged COSE_Sign with one signature per signer, in the order given. */
export function createSign(input: {
  protectedHeader: HeaderMap;
  unprotectedHeader?: HeaderMap;
  payload: Uint8Array;
  externalAad?: Uint8Array;
  signers: readonly SignerInput[];
}): Uint8Array {
  const bodyProtected = encodeProtectedHeader(input.protectedHeader);
  const signatures = input.signers.map((signer) => {
    const signerProtected = encodeProtectedHeader(signer.protectedHeader);
    const tbs = signToBeSigned(bodyProtected, signerProtected, input.payload, input.externalAad);
    return [
      signerProtected,
      canonicalMap(signer.unprotectedHeader ?? EMPTY_MAP),
      sign(tbs, signer.secretKey),
    ];
  });
  const body = [bodyProtected, canonicalMap(input.unprotectedHeader ?? EMPTY_MAP), input.payload, signatures];
  return encodeCbor(new Tag(body, COSE_SIGN_TAG));
}

export type CoseDecodeResult = { ok: true; message: CoseMessage } | { ok: false; reason: string };

/** Parses a tagged COSE_Sign1 or COSE_Sign. Checks structure only; signatures are checked by the verify functions. */
export function decodeCose(bytes: Uint8Array): CoseDecodeResult {
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return { ok: false, reason: `not CBOR: ${decoded.reason}` };
  const item = decoded.value;
  if (!(item instanceof Tag) || (item.tag !== COSE_SIGN1_TAG && item.tag !== COSE_SIGN_TAG)) {
    return { ok: false, reason: "not a tagged COSE_Sign1 (tag 18) or COSE_Sign (tag 98)" };
  }
  if (!equalBytes(encodeCbor(item), bytes))
    return { ok: false, reason: "not in deterministic CBOR encoding" };
  try {
    return {
      ok: true,
      message: item.tag === COSE_SIGN1_TAG ? parseSign1(item.value) : parseSign(item.value),
    };
  } catch (error) {
    if (error instanceof CoseShapeError) return { ok: false, reason: error.message };
    throw error;
  }
}

/** Verifies a COSE_Sign1 signature with a public key. */
export function verifySign1(
  message: CoseSign1Message,
  publicKey: Uint8Array,
  externalAad?: Uint8Array,
): SignatureCheck {
  return verifySignature(
    sign1ToBeSigned(message.protectedBytes, message.payload, externalAad),
    message.signature,
    publicKey,
  );
}

/** Verifies signature number `index` of a COSE_Sign with a public key. */
export function verifySignSignature(
  message: CoseSignMessage,
  index: number,
  publicKey: Uint8Array,
  externalAad?: Uint8Array,
): SignatureCheck {
  const signer = message.signatures[index];
  if (!signer) return { valid: false, reason: "malformed-input", message: `no signature #${index}` };
  const tbs = signToBeSigned(message.protectedBytes, signer.protectedBytes, message.payload, externalAad);
  return verifySignature(tbs, signer.signature, publicKey);
}

class CoseShapeError extends Error {}

function parseSign1(value: unknown): CoseSign1Message {
  const [protectedBytes, unprotected, payload, signature] = asArray(value, 4, "COSE_Sign1");
  const headers = parseHeaders(protectedBytes, unprotected, "COSE_Sign1");
  return {
    kind: "sign1",
    ...headers,
    payload: asPayload(payload),
    signature: asBytes(signature, "COSE_Sign1 signature"),
  };
}

function parseSign(value: unknown): CoseSignMessage {
  const [protectedBytes, unprotected, payload, signatures] = asArray(value, 4, "COSE_Sign");
  const headers = parseHeaders(protectedBytes, unprotected, "COSE_Sign");
  if (!Array.isArray(signatures) || signatures.length === 0)
    throw new CoseShapeError("COSE_Sign signatures must be a non-empty array");
  return {
    kind: "sign",
    ...headers,
    payload: asPayload(payload),
    signatures: signatures.map((entry, i) => {
      const [sp, su, sig] = asArray(entry, 3, `COSE_Signature #${i}`);
      return {
        ...parseHeaders(sp, su, `COSE_Signature #${i}`),
        signature: asBytes(sig, `COSE_Signature #${i} signature`),
      };
    }),
  };
}

function parseHeaders(
  protectedValue: unknown,
  unprotectedValue: unknown,
  where: string,
): { protectedBytes: Uint8Array; protectedHeader: HeaderMap; unprotectedHeader: HeaderMap } {
  const protectedBytes = asBytes(protectedValue, `${where} protected header`);
  let protectedHeader: HeaderMap = EMPTY_MAP;
  if (protectedBytes.length > 0) {
    const inner = decodeCbor(protectedBytes);
    if (!inner.ok) throw new CoseShapeError(`${where} protected header is not CBOR: ${inner.reason}`);
    protectedHeader = asHeaderMap(inner.value, `${where} protected header`);
    if (protectedHeader.size === 0)
      throw new CoseShapeError(
        `${where} protected header: an empty map must be sent as an empty byte string`,
      );
  }
  const unprotectedHeader = asHeaderMap(unprotectedValue, `${where} unprotected header`);
  for (const label of unprotectedHeader.keys()) {
    if (protectedHeader.has(label))
      throw new CoseShapeError(`${where}: header label ${String(label)} is both protected and unprotected`);
  }
  return { protectedBytes, protectedHeader, unprotectedHeader };
}

function asHeaderMap(value: unknown, where: string): HeaderMap {
  if (!(value instanceof Map)) throw new CoseShapeError(`${where} must be a map`);
  for (const label of value.keys()) {
    if (!(typeof label === "string" || (typeof label === "number" && Number.isInteger(label)))) {
      throw new CoseShapeError(`${where}: labels must be integers or text`);
    }
  }
  return value as HeaderMap;
}

function asArray(value: unknown, length: number, where: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length)
    throw new CoseShapeError(`${where} must be an array of ${length} items`);
  return value;
}

function asBytes(value: unknown, where: string): Uint8Array {
  if (!isBytes(value)) throw new CoseShapeError(`${where} must be a byte string`);
  return value;
}

function asPayload(value: unknown): Uint8Array {
  if (value === null || value === undefined)
    throw new CoseShapeError("detached payloads are not supported: the payload must be carried");
  return asBytes(value, "payload");
}
