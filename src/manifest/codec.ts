/**
 * Small two-way codecs between the TypeScript model and the CBOR data model, so each field's
 * CBOR key, type and limits are declared once (schema.ts) and used by both the encoder and the
 * decoder. Decoding is strict: wrong types, out-of-range values and unknown keys are violations
 * that name the field's path ("modules.radio.slots.a.sha256"). Decoders read only what the schema
 * names, so shared or cyclic structures in hostile input are never walked.
 */
import { isBytes } from "../signing/index.js";
import { asSafeInteger, cborUint, encodeCbor } from "../signing/index.js";

/** A decoded value that does not follow the schema. */
export class SchemaViolation extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

export interface Codec<T> {
  /** The CBOR data-model value (Map, array, bytes, text, integer) to encode. */
  encode(value: T): unknown;
  /** Checks and converts a decoded CBOR value; throws SchemaViolation naming the path. */
  decode(value: unknown, path: string): T;
}

export function violation(path: string, reason: string): never {
  throw new SchemaViolation(path, reason);
}

export function uint(options: { min?: number; max?: number } = {}): Codec<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = options;
  return {
    encode: (value) => cborUint(value),
    decode(value, path) {
      const n = asSafeInteger(value);
      if (n === undefined || n < 0) return violation(path, "expected an unsigned integer");
      if (n < min || n > max) return violation(path, `${n} is outside ${min}..${max}`);
      return n;
    },
  };
}

export function int(options: { min: number; max: number }): Codec<number> {
  return {
    encode: (value) => value,
    decode(value, path) {
      const n = asSafeInteger(value);
      if (n === undefined) return violation(path, "expected an integer");
      if (n < options.min || n > options.max)
        return violation(path, `${n} is outside ${options.min}..${options.max}`);
      return n;
    },
  };
}

export function text(options: { maxLength: number; pattern?: RegExp; expected?: string }): Codec<string> {
  return {
    encode: (value) => value,
    decode(value, path) {
      if (typeof value !== "string") return violation(path, "expected text");
      if (value.length === 0 || value.length > options.maxLength)
        return violation(path, `length must be 1..${options.maxLength}`);
      if (options.pattern && !options.pattern.test(value)) {
        return violation(
          path,
          `"${value.slice(0, 80)}" is not ${options.expected ?? `matching ${String(options.pattern)}`}`,
        );
      }
      return value;
    },
  };
}

export function bytes(length: number): Codec<Uint8Array> {
  return {
    encode: (value) => value,
    decode(value, path) {
      if (!isBytes(value)) return violation(path, "expected a byte string");
      if (value.length !== length) return violation(path, `expected ${length} bytes, got ${value.length}`);
      return Uint8Array.from(value);
    },
  };
}

export function oneOf<T extends string>(values: readonly T[]): Codec<T> {
  return {
    encode: (value) => value,
    decode(value, path) {
      if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
        return violation(path, `expected one of ${values.join(", ")}`);
      }
      return value as T;
    },
  };
}

export function list<T>(
  item: Codec<T>,
  options: { max: number; min?: number; unique?: boolean },
): Codec<T[]> {
  const min = options.min ?? 0;
  return {
    encode: (value) => value.map((v) => item.encode(v)),
    decode(value, path) {
      if (!Array.isArray(value)) return violation(path, "expected an array");
      if (value.length < min || value.length > options.max)
        return violation(path, `must hold ${min}..${options.max} items, got ${value.length}`);
      const items = value.map((v, i) => item.decode(v, `${path}.${i}`));
      if (options.unique && new Set(items).size !== items.length)
        return violation(path, "items must be unique");
      return items;
    },
  };
}

/** A map from names (text keys, e.g. module types) to values, encoded with keys in deterministic order. */
export function nameMap<T>(
  key: Codec<string>,
  value: Codec<T>,
  options: { max: number; min?: number },
): Codec<Record<string, T>> {
  const min = options.min ?? 0;
  return {
    encode: (record) => {
      const entries = Object.entries(record).map(([k, v]) => ({ k, v, order: encodeCbor(k) }));
      entries.sort((a, b) => Buffer.compare(a.order, b.order));
      return new Map(entries.map(({ k, v }) => [k, value.encode(v)]));
    },
    decode(input, path) {
      if (!(input instanceof Map)) return violation(path, "expected a map");
      if (input.size < min || input.size > options.max)
        return violation(path, `must hold ${min}..${options.max} entries, got ${input.size}`);
      const entries: Array<[string, T]> = [];
      for (const [k, v] of input as Map<unknown, unknown>) {
        const name = key.decode(k, `${path} key`);
        entries.push([name, value.decode(v, `${path}.${name}`)]);
      }
      return Object.fromEntries(entries);
    },
  };
}

export interface Field<T> {
  /** The CBOR map key (a small unsigned integer). */
  key: number;
  codec: Codec<T>;
  optional?: boolean;
}

export type Fields<T> = { [K in keyof T]-?: Field<NonNullable<T[K]>> };

/** A record encoded as a CBOR map with small integer keys; unknown keys are violations. */
export function struct<T extends object>(fields: Fields<T>): Codec<T> {
  const specs = Object.entries<Field<unknown>>(fields).sort((a, b) => a[1].key - b[1].key);
  const byKey = new Map(specs.map(([name, spec]) => [spec.key, name]));
  return {
    encode(value) {
      const out = new Map<number, unknown>();
      for (const [name, spec] of specs) {
        const v = (value as Record<string, unknown>)[name];
        if (v !== undefined) out.set(spec.key, spec.codec.encode(v));
      }
      return out;
    },
    decode(input, path) {
      if (!(input instanceof Map)) return violation(path, "expected a map");
      for (const k of (input as Map<unknown, unknown>).keys()) {
        if (typeof k !== "number" || !byKey.has(k))
          return violation(path, `unknown field key ${describeKey(k)}`);
      }
      const out: Record<string, unknown> = {};
      for (const [name, spec] of specs) {
        const map = input as Map<unknown, unknown>;
        if (!map.has(spec.key)) {
          if (!spec.optional) return violation(`${path}.${name}`, `missing (key ${spec.key})`);
          continue;
        }
        out[name] = spec.codec.decode(map.get(spec.key), `${path}.${name}`);
      }
      return out as T;
    },
  };
}

function describeKey(key: unknown): string {
  return typeof key === "string"
    ? `"${key.slice(0, 40)}"`
    : typeof key === "number" || typeof key === "bigint"
      ? String(key)
      : typeof key;
}
