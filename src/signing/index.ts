/** Public API of the signing layer: Ed25519, COSE, keys, trust store, digests. */
export { SigningError, type SigningErrorCode } from "./errors.js";
export { toHex, fromHex, equalBytes } from "./bytes.js";
export { sha256, crc32, stm32Crc } from "../util/digest.js";
export {
  generateKeyPair,
  keyPairFromSeed,
  sign,
  verifySignature,
  publicKeyWeakness,
  type Ed25519KeyPair,
  type SignatureCheck,
  type SignatureRejection,
} from "./ed25519.js";
export { createSigningKey, keyId, keyIdBytes, KEY_ID_PATTERN, type SigningKey } from "./keys.js";
export { keyFilePaths, writeKeyFiles, readSigningKey, readPublicKeyFile } from "./key-files.js";
export {
  parseTrustStore,
  loadTrustStore,
  saveTrustStore,
  trustStoreDocument,
  findTrustedKey,
  isKeyValidAt,
  type TrustStore,
  type TrustedKey,
} from "./trust-store.js";
export {
  ContentType,
  sealEnvelope,
  openEnvelope,
  type ContentTypeValue,
  type EnvelopeOutcome,
  type EnvelopeFailureCode,
  type SignerReport,
} from "./envelope.js";
export {
  createSign1,
  createSign,
  decodeCose,
  verifySign1,
  verifySignSignature,
  HeaderLabel,
  ALG_EDDSA,
  type CoseMessage,
  type HeaderMap,
} from "./cose.js";

export { concatBytes, isBytes } from "./bytes.js";
export { asSafeInteger, cborUint, decodeCbor, encodeCbor } from "./cbor.js";
export { describeFsError, describeIssues, readText } from "./json-file.js";
