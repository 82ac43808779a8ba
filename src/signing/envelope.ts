/**
 * The subflash signing profile on top of COSE: how manifests and commands are sealed and opened.
 *
 * Sealing: one key gives a COSE_Sign1 whose protected header holds alg EdDSA (-8), the content type
 * and the signer's kid; several keys give a COSE_Sign whose body protected header holds the content
 * type and whose signers' protected headers hold alg and kid. Unprotected headers are always empty:
 * everything the verifier relies on is under the signatures.
 *
 * Opening (in this order): parse the COSE structure; verify each signature over the exact signed
 * bytes with the trusted key its kid names; require `threshold` distinct trusted keys; only then
 * look at the content type and hand out the payload bytes, still undecoded.
 */
import { toHex, isBytes } from "./bytes.js";
import {
  ALG_EDDSA,
  HeaderLabel,
  createSign,
  createSign1,
  decodeCose,
  verifySign1,
  verifySignSignature,
  type CoseSignature,
  type HeaderMap,
} from "./cose.js";
import type { SignatureCheck } from "./ed25519.js";
import { SigningError } from "./errors.js";
import { KEY_ID_BYTES, keyIdBytes, type SigningKey } from "./keys.js";
import { findTrustedKey, isKeyValidAt, type TrustStore } from "./trust-store.js";

/** Content types (COSE header 3) that keep manifests and commands from being taken for one another. */
export const ContentType = {
  manifest: "application/vnd.subflash.manifest+cbor",
  command: "application/vnd.subflash.command+cbor",
} as const;
export type ContentTypeValue = (typeof ContentType)[keyof typeof ContentType];

/** More signatures than this is not a plausible release, and each costs a verification. */
export const MAX_SIGNERS = 16;

export type EnvelopeFailureCode =
  | "malformed-envelope" // not a COSE_Sign1/COSE_Sign of this profile
  | "unsupported-algorithm" // a signer uses another algorithm than EdDSA
  | "unknown-key" // no signer's kid is in the trust store
  | "key-not-valid" // a trusted key signed outside its validity window
  | "bad-signature" // a trusted key's signature does not verify
  | "below-threshold" // valid signatures, but from fewer distinct trusted keys than required
  | "wrong-content-type"; // signed correctly, but it is not what the caller expects (command vs manifest)

/** What was found about one signature, for logs and `manifest verify`. */
export interface SignerReport {
  /** Hex kid as carried (may be absent or not in the trust store). */
  keyId?: string;
  status:
    "valid" | "unknown-key" | "key-not-valid" | "bad-signature" | "unsupported-algorithm" | "missing-kid";
  /** Why, when not valid. */
  reason?: string;
}

export type EnvelopeOutcome =
  | { ok: true; payload: Uint8Array; signers: SignerReport[]; validKeyIds: string[] }
  | { ok: false; code: EnvelopeFailureCode; message: string; signers: SignerReport[] };

/**
 * Signs a payload: COSE_Sign1 for one key, COSE_Sign for several (one signature each). Throws
 * SigningError "bad-key" when no key is given, a key id is repeated, or there are too many keys.
 */
export function sealEnvelope(
  payload: Uint8Array,
  contentType: ContentTypeValue,
  keys: readonly SigningKey[],
): Uint8Array {
  if (keys.length === 0) throw new SigningError("bad-key", "at least one signing key is needed");
  if (keys.length > MAX_SIGNERS)
    throw new SigningError("bad-key", `at most ${MAX_SIGNERS} signing keys, got ${keys.length}`);
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length)
    throw new SigningError(
      "bad-key",
      "the same key is given twice; each signature must come from a distinct key",
    );
  const [only] = keys;
  if (only && keys.length === 1) {
    return createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.contentType, contentType],
        [HeaderLabel.kid, keyIdBytes(only.publicKey)],
      ]),
      payload,
      secretKey: only.secretKey,
    });
  }
  return createSign({
    protectedHeader: new Map<number, unknown>([[HeaderLabel.contentType, contentType]]),
    payload,
    signers: keys.map((key) => ({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.kid, keyIdBytes(key.publicKey)],
      ]),
      secretKey: key.secretKey,
    })),
  });
}

export interface OpenOptions {
  trust: TrustStore;
  /** The content type the caller expects. */
  contentType: ContentTypeValue;
  /** For key validity windows. */
  now: Date;
}

/** Verifies a sealed payload against a trust store. Never throws on bad input. */
export function openEnvelope(bytes: Uint8Array, options: OpenOptions): EnvelopeOutcome {
  if (!isBytes(bytes)) return fail("malformed-envelope", "envelope must be bytes", []);
  const decoded = decodeCose(bytes);
  if (!decoded.ok) return fail("malformed-envelope", `envelope: ${decoded.reason}`, []);
  const message = decoded.message;
  const signatures: CoseSignature[] = message.kind === "sign1" ? [message] : message.signatures;
  if (signatures.length > MAX_SIGNERS)
    return fail("malformed-envelope", `envelope: more than ${MAX_SIGNERS} signatures`, []);
  const shape = checkProfileShape(
    message.kind,
    message.protectedHeader,
    message.unprotectedHeader,
    signatures,
  );
  if (shape) return fail("malformed-envelope", `envelope: ${shape}`, []);

  const signers = signatures.map((signer, index): SignerReport => {
    const check = (publicKey: Uint8Array): SignatureCheck =>
      message.kind === "sign1"
        ? verifySign1(message, publicKey)
        : verifySignSignature(message, index, publicKey);
    return judgeSigner(signer.protectedHeader, check, options);
  });
  const validKeyIds = [...new Set(signers.filter((s) => s.status === "valid").map((s) => s.keyId!))];
  const required = options.trust.threshold;
  if (!Number.isInteger(required) || required < 1) {
    // Fail closed: parseTrustStore never yields such a store, but one built in code could.
    return fail(
      "below-threshold",
      `the trust store's threshold ${required} is not a whole number ≥ 1; nothing is accepted`,
      signers,
    );
  }
  if (validKeyIds.length < required) return thresholdFailure(signers, validKeyIds.length, required);

  const contentType = message.protectedHeader.get(HeaderLabel.contentType);
  if (contentType !== options.contentType) {
    return fail(
      "wrong-content-type",
      `signed content is ${describe(contentType)}, expected ${options.contentType}`,
      signers,
    );
  }
  return { ok: true, payload: message.payload, signers, validKeyIds };
}

/** Profile rules a well-formed COSE message may still break; undefined when it follows them. */
function checkProfileShape(
  kind: "sign1" | "sign",
  bodyProtected: HeaderMap,
  bodyUnprotected: HeaderMap,
  signatures: readonly CoseSignature[],
): string | undefined {
  const headers = [
    bodyProtected,
    bodyUnprotected,
    ...signatures.flatMap((s) => [s.protectedHeader, s.unprotectedHeader]),
  ];
  if (headers.some((h) => h.has(HeaderLabel.crit)))
    return "critical header parameters (crit) are not supported";
  if (bodyUnprotected.size > 0 || signatures.some((s) => s.unprotectedHeader.size > 0)) {
    return "unprotected headers must be empty (everything relied on must be signed)";
  }
  if (typeof bodyProtected.get(HeaderLabel.contentType) !== "string")
    return "protected content type (3) missing";
  if (kind === "sign" && (bodyProtected.has(HeaderLabel.alg) || bodyProtected.has(HeaderLabel.kid))) {
    return "COSE_Sign body header must not carry alg or kid (they belong to each signer)";
  }
  return undefined;
}

function judgeSigner(
  header: HeaderMap,
  check: (publicKey: Uint8Array) => SignatureCheck,
  options: OpenOptions,
): SignerReport {
  const kid = header.get(HeaderLabel.kid);
  if (!isBytes(kid) || kid.length !== KEY_ID_BYTES) {
    return { status: "missing-kid", reason: `protected kid must be a ${KEY_ID_BYTES}-byte string` };
  }
  const keyId = toHex(kid);
  const alg = header.get(HeaderLabel.alg);
  if (alg !== ALG_EDDSA)
    return {
      keyId,
      status: "unsupported-algorithm",
      reason: `alg ${describe(alg)}; only EdDSA (-8) is accepted`,
    };
  const key = findTrustedKey(options.trust, keyId);
  if (!key) return { keyId, status: "unknown-key", reason: "not in the trust store" };
  if (!isKeyValidAt(key, options.now)) {
    const window = `${key.notBefore?.toISOString() ?? "-∞"} .. ${key.notAfter?.toISOString() ?? "+∞"}`;
    return { keyId, status: "key-not-valid", reason: `outside its validity window ${window}` };
  }
  const result = check(key.publicKey);
  return result.valid
    ? { keyId, status: "valid" }
    : { keyId, status: "bad-signature", reason: result.message };
}

/**
 * Names the threshold failure by the most telling signer: a trusted key whose signature failed
 * means tampering (or the wrong payload) and wins over everything else.
 */
function thresholdFailure(signers: SignerReport[], valid: number, threshold: number): EnvelopeOutcome {
  const first = (status: SignerReport["status"]): SignerReport | undefined =>
    signers.find((s) => s.status === status);
  const bad = first("bad-signature");
  if (bad) return fail("bad-signature", `signature by key ${bad.keyId} does not verify`, signers);
  const expired = first("key-not-valid");
  if (expired) return fail("key-not-valid", `key ${expired.keyId} is ${expired.reason}`, signers);
  if (valid > 0)
    return fail(
      "below-threshold",
      `${valid} valid signature(s) from trusted keys, ${threshold} required`,
      signers,
    );
  const alg = first("unsupported-algorithm");
  if (alg) return fail("unsupported-algorithm", `key ${alg.keyId} signed with ${alg.reason}`, signers);
  const ids = signers.map((s) => s.keyId ?? "(no kid)").join(", ");
  return fail("unknown-key", `no trusted key among the signers (${ids})`, signers);
}

function fail(code: EnvelopeFailureCode, message: string, signers: SignerReport[]): EnvelopeOutcome {
  return { ok: false, code, message, signers };
}

/** A header value for messages: text quoted, numbers as they are, anything else by its type. */
function describe(value: unknown): string {
  if (typeof value === "string") return `"${value.slice(0, 80)}"`;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return value === undefined ? "missing" : `a ${value === null ? "null" : typeof value} value`;
}
