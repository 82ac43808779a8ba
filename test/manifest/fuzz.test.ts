/**
 * Property-based tests of the decode entry points (as rauc fuzzes its manifest parser): arbitrary
 * bytes, arbitrary CBOR, and mutations of valid bundles and commands never make the verifier throw
 * or hang, and are never accepted.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBundle, signCommand } from "../../src/manifest/build.js";
import { decodeBundle } from "../../src/manifest/bundle.js";
import { decodeCommandPayload, decodeManifestPayload } from "../../src/manifest/schema.js";
import { verifyBundle, verifyCommand } from "../../src/manifest/verify.js";
import { Tag, encodeCbor } from "../../src/signing/cbor.js";
import { decodeCose } from "../../src/signing/cose.js";
import { ContentType, sealEnvelope } from "../../src/signing/envelope.js";
import { NOW, NOW_S, alice, gatewayOptions, sampleRelease, trust } from "./fixtures.js";

/** Far above what one call takes (under 10 ms) even on a loaded machine; a decoder that loops would blow it. */
const MAX_MS_PER_CALL = 2000;

const small = sampleRelease({ power: 48, radio: 40 });
const validBundle = createBundle({ ...small, keys: [alice] });
const commandOptions = { trust, gateway: { id: "gw-001" }, state: { lastCommandSequence: 0 }, now: NOW };
const validCommand = signCommand(
  {
    formatVersion: 1,
    kind: "rollback",
    gateway: "gw-001",
    sequence: 3,
    issuedAt: NOW_S,
    expires: NOW_S + 600,
    module: "radio",
  },
  [alice],
);

function timed<T>(run: () => T): T {
  const start = performance.now();
  const result = run();
  expect(performance.now() - start).toBeLessThan(MAX_MS_PER_CALL);
  return result;
}

/** Every entry point a hostile byte string can reach; none may throw, none may accept. */
function expectAllRefuse(bytes: Uint8Array): void {
  expect(timed(() => verifyBundle(bytes, gatewayOptions())).ok).toBe(false);
  expect(timed(() => verifyCommand(bytes, commandOptions)).ok).toBe(false);
  expect(timed(() => decodeManifestPayload(bytes)).ok).toBe(false);
  expect(timed(() => decodeCommandPayload(bytes)).ok).toBe(false);
  timed(() => decodeCose(bytes));
  timed(() => decodeBundle(bytes));
}

/** Arbitrary CBOR data-model values, including the shapes our schema uses and the tags cbor-x knows. */
const cborValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(0, 1, 2, 7, 0xffffffff, 2 ** 40, -1, 1.5, Number.NaN),
    fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 20 }),
    fc.constantFrom("a", "b", "single", "radio", "all-or-nothing", "https://x.example/a", "1.0.0"),
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom(null, undefined, true, false),
    fc.array(tie("value"), { maxLength: 5 }),
    fc
      .array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.string({ maxLength: 6 })), tie("value")), {
        maxLength: 6,
      })
      .map((entries) => new Map(entries)),
    fc
      .tuple(fc.constantFrom(0, 1, 2, 18, 24, 28, 29, 64, 98, 258, 55799), tie("value"))
      .map(([tag, value]) => new Tag(value, tag)),
  ),
})).value;

/** A byte-level mutation: flip, overwrite, insert, delete, truncate or append. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(original: Uint8Array, m: Mutation): Uint8Array {
  const bytes = Array.from(original);
  const at = "at" in m ? m.at % bytes.length : 0;
  switch (m.kind) {
    case "flip":
      bytes[at] = bytes[at]! ^ (1 << m.bit);
      break;
    case "set":
      bytes[at] = m.value === bytes[at] ? (m.value + 1) & 0xff : m.value;
      break;
    case "insert":
      bytes.splice(at, 0, ...m.bytes);
      break;
    case "delete":
      bytes.splice(at, m.length);
      break;
    case "truncate":
      bytes.length = at;
      break;
    case "append":
      bytes.push(...m.bytes);
      break;
  }
  return Uint8Array.from(bytes);
}

describe("decoder fuzzing", () => {
  it("has valid inputs to mutate", () => {
    expect(verifyBundle(validBundle, gatewayOptions()).ok).toBe(true);
    expect(verifyCommand(validCommand, commandOptions).ok).toBe(true);
  });

  it("never throws on, hangs on, or accepts arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), expectAllRefuse), { numRuns: 600 });
  });

  it("never throws on, hangs on, or accepts arbitrary bytes that start like a bundle or a COSE message", () => {
    const prefixes = [
      validBundle.subarray(0, 20),
      validBundle.subarray(0, 60),
      validCommand.subarray(0, 12),
      Uint8Array.of(0xd2, 0x84),
      Uint8Array.of(0xd8, 0x62, 0x84),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200 }), (prefix, tail) =>
        expectAllRefuse(Uint8Array.from([...prefix, ...tail])),
      ),
      { numRuns: 400 },
    );
  });

  it("never throws on, hangs on, or accepts arbitrary CBOR values", () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        const bytes = encodable(value);
        if (bytes) expectAllRefuse(bytes);
      }),
      { numRuns: 800 },
    );
  });

  it("refuses correctly signed payloads of arbitrary CBOR at the schema, without throwing", () => {
    fc.assert(
      fc.property(cborValue, (value) => {
        const payload = encodable(value);
        if (!payload) return;
        const bundle = timed(() => createSignedBundle(payload));
        const outcome = timed(() => verifyBundle(bundle, gatewayOptions()));
        expect(outcome.ok).toBe(false);
        if (!outcome.ok)
          expect(["bad-payload", "unsupported-version", "schema-violation"]).toContain(outcome.code);
      }),
      { numRuns: 80 },
    );
  });

  it("never accepts a mutated valid bundle", () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const outcome = timed(() => verifyBundle(mutate(validBundle, m), gatewayOptions()));
        expect(outcome.ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it("never accepts a mutated valid command", () => {
    fc.assert(
      fc.property(mutation, (m) => {
        expect(timed(() => verifyCommand(mutate(validCommand, m), commandOptions)).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

/** The CBOR of a generated value, or undefined for a value cbor-x cannot write (then it is not a test input). */
function encodable(value: unknown): Uint8Array | undefined {
  try {
    return encodeCbor(value);
  } catch {
    return undefined;
  }
}

function createSignedBundle(payload: Uint8Array): Uint8Array {
  return encodeCbor(["subflash-bundle", 1, sealEnvelope(payload, ContentType.manifest, [alice]), []]);
}
