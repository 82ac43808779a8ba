/**
 * The one CBOR configuration of subflash (cbor-x). Plain CBOR only: maps decode to Map (never to
 * objects, so a key such as "__proto__" is inert), no record or structured-clone extensions, byte
 * strings without cbor-x's typed-array tags, and integers above 32 bits written as CBOR integers
 * rather than floats.
 */
import { Decoder, Encoder, Tag } from "cbor-x";

export { Tag };

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  tagUint8Array: false,
  pack: false,
  structuredClone: false,
  variableMapSize: true,
});

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/** Encodes a value built from Map, Array, Uint8Array, string, safe integers, booleans, null and Tag. */
export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decodes exactly one CBOR item that spans all of `bytes`; any error (truncation, trailing bytes…) as a result. */
export function decodeCbor(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: decoder.decode(bytes) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * An unsigned integer for encoding: cbor-x writes numbers above 2^32 - 1 as floats, so they go as
 * BigInt, which it writes as a CBOR uint64.
 */
export function cborUint(value: number): number | bigint {
  return value > 0xffffffff ? BigInt(value) : value;
}

/** A decoded CBOR integer as a safe JS integer, or undefined (floats, big values, other types). */
export function asSafeInteger(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : undefined;
  }
  return undefined;
}
