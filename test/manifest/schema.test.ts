import { describe, expect, it } from "vitest";
import { Tag, decodeCbor, encodeCbor } from "../../src/signing/cbor.js";
import {
  decodeCommandPayload,
  decodeManifestPayload,
  encodeCommandPayload,
  encodeManifestPayload,
} from "../../src/manifest/schema.js";
import type { Manifest, SignedCommand } from "../../src/manifest/types.js";
import { sampleRelease } from "./fixtures.js";

const { manifest } = sampleRelease();

/** Re-encodes a manifest with one change made to its CBOR map tree. */
function edit(change: (root: Map<number, unknown>) => void): Uint8Array {
  const decoded = decodeCbor(encodeManifestPayload(manifest));
  if (!decoded.ok) throw new Error("fixture does not decode");
  const root = decoded.value as Map<number, unknown>;
  change(root);
  return encodeCbor(root);
}
const modules = (root: Map<number, unknown>) => root.get(7) as Map<string, Map<number, unknown>>;
const slotA = (root: Map<number, unknown>) =>
  (modules(root).get("radio")!.get(2) as Map<string, Map<number, unknown>>).get("a")!;

describe("manifest payload encoding", () => {
  it("round-trips every field", () => {
    const decoded = decodeManifestPayload(encodeManifestPayload(manifest));
    expect(decoded).toEqual({ ok: true, value: manifest });
  });

  it("uses the documented integer keys, text keys for names, and deterministic order", () => {
    const decoded = decodeCbor(encodeManifestPayload(manifest));
    const root = decoded.ok ? (decoded.value as Map<unknown, unknown>) : new Map();
    expect([...root.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...modules(root as Map<number, unknown>).keys()]).toEqual(["power", "radio"]); // bytewise order of the encoded keys
    expect([...slotA(root as Map<number, unknown>).keys()]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("writes sequence numbers above 2^32 as CBOR integers and reads them back exactly", () => {
    const big: Manifest = { ...manifest, sequence: 1_795_238_297_291 };
    const payload = encodeManifestPayload(big);
    expect(Buffer.from(payload).includes(Buffer.from([0x01, 0x1b]))).toBe(true); // key 1, then a uint64 head
    expect(decodeManifestPayload(payload)).toMatchObject({
      ok: true,
      value: { sequence: 1_795_238_297_291 },
    });
  });

  it("encodes the same manifest to the same bytes", () => {
    expect(
      Buffer.from(encodeManifestPayload(structuredClone(manifest))).equals(
        Buffer.from(encodeManifestPayload(manifest)),
      ),
    ).toBe(true);
  });
});

describe("manifest payload decoding names what is wrong", () => {
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ["bytes that are not CBOR", Uint8Array.of(0xbf, 0x01), "bad-payload", /not CBOR/],
    ["another format version", edit((r) => r.set(0, 2)), "unsupported-version", /format version 2/],
    ["something other than a map", encodeCbor([1, 2, 3]), "schema-violation", /manifest: expected a map/],
    ["a missing field", edit((r) => r.delete(5)), "schema-violation", /manifest\.release: missing \(key 5\)/],
    ["an unknown field", edit((r) => r.set(99, "x")), "schema-violation", /manifest: unknown field key 99/],
    [
      "a text key where an integer key belongs",
      edit((r) => r.set("release" as never, "x")),
      "schema-violation",
      /unknown field key "release"/,
    ],
    [
      "a SHA-256 of the wrong length",
      edit((r) => slotA(r).set(2, new Uint8Array(31))),
      "schema-violation",
      /modules\.radio\.slots\.a\.sha256: expected 32 bytes/,
    ],
    [
      "a negative size",
      edit((r) => slotA(r).set(1, -1)),
      "schema-violation",
      /slots\.a\.size: expected an unsigned integer/,
    ],
    ["an empty image", edit((r) => slotA(r).set(1, 0)), "schema-violation", /slots\.a\.size: 0 is outside/],
    [
      "a float where an integer belongs",
      edit((r) => r.set(1, 1.5)),
      "schema-violation",
      /manifest\.sequence/,
    ],
    ["a sequence beyond 2^53", edit((r) => r.set(1, 2n ** 60n)), "schema-violation", /manifest\.sequence/],
    [
      "a CBOR date where a number belongs",
      edit((r) => r.set(2, new Tag(0, 1))),
      "schema-violation",
      /manifest\.issuedAt/,
    ],
    [
      "an http image URL",
      edit((r) => slotA(r).set(5, new Map([[1, "http://example.com/a.bin"]]))),
      "schema-violation",
      /must be https/,
    ],
    [
      "a source with both inline and url",
      edit((r) =>
        slotA(r).set(
          5,
          new Map<number, unknown>([
            [0, 1],
            [1, "https://x/y"],
          ]),
        ),
      ),
      "schema-violation",
      /exactly one/,
    ],
    [
      "only slot b",
      edit((r) => (modules(r).get("radio")!.get(2) as Map<string, unknown>).delete("a")),
      "schema-violation",
      /expected slots "a" and "b", or "single"/,
    ],
    [
      "a module type that is not a safe name",
      edit((r) => modules(r).set("../etc", modules(r).get("power")!)),
      "schema-violation",
      /manifest\.modules key/,
    ],
    [
      "a version that is not semver-like",
      edit((r) => modules(r).get("power")!.set(0, "two")),
      "schema-violation",
      /modules\.power\.version/,
    ],
    [
      "an unknown atomicity",
      edit((r) => (r.get(6) as Map<number, unknown>).set(0, "some")),
      "schema-violation",
      /policy\.atomicity: expected one of/,
    ],
    [
      "expiry before issue",
      edit((r) => r.set(3, r.get(2))),
      "schema-violation",
      /manifest\.expires: must be after issuedAt/,
    ],
    [
      "no targets",
      edit((r) =>
        r.set(
          4,
          new Map([
            [0, []],
            [1, []],
          ]),
        ),
      ),
      "schema-violation",
      /manifest\.targets: names no gateway and no group/,
    ],
    [
      "an unaligned address",
      edit((r) => slotA(r).set(0, 0x08020002)),
      "schema-violation",
      /slots\.a\.address: must be 4-byte aligned/,
    ],
    [
      "overlapping A and B slots",
      edit((r) => slotA(r).set(0, 0x08080000)),
      "schema-violation",
      /slots a and b overlap/,
    ],
    [
      "an image past 4 GiB",
      edit((r) => slotA(r).set(0, 0xfffffffc)),
      "schema-violation",
      /past the 32-bit address space/,
    ],
    [
      "an explicit undefined for a required field",
      edit((r) => r.set(5, undefined)),
      "schema-violation",
      /manifest\.release: expected text/,
    ],
  ];
  for (const [name, payload, code, message] of cases) {
    it(`refuses ${name} (${code})`, () => {
      const result = decodeManifestPayload(payload);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe(code);
        expect(result.message).toMatch(message);
      }
    });
  }
});

describe("command payloads", () => {
  const command: SignedCommand = {
    formatVersion: 1,
    kind: "rollback",
    gateway: "gw-001",
    sequence: 7,
    issuedAt: 1_770_000_000,
    expires: 1_770_000_600,
    module: "radio",
    bundle: { sequence: 42, release: "lab-2026.1" },
  };

  it("round-trip with and without the optional fields", () => {
    expect(decodeCommandPayload(encodeCommandPayload(command))).toEqual({ ok: true, value: command });
    const { module: _m, bundle: _b, ...bare } = command;
    expect(decodeCommandPayload(encodeCommandPayload(bare))).toEqual({ ok: true, value: bare });
  });

  it("refuse an unknown kind and a manifest payload", () => {
    expect(decodeCommandPayload(encodeCommandPayload({ ...command, kind: "reboot" as never }))).toMatchObject(
      { ok: false, code: "schema-violation" },
    );
    expect(decodeCommandPayload(encodeManifestPayload(manifest))).toMatchObject({
      ok: false,
      code: "schema-violation",
    });
  });
});
