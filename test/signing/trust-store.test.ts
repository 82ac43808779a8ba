import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigningError } from "../../src/signing/errors.js";
import { createSigningKey } from "../../src/signing/keys.js";
import {
  isKeyValidAt,
  loadTrustStore,
  parseTrustStore,
  saveTrustStore,
  trustStoreDocument,
} from "../../src/signing/trust-store.js";

const a = createSigningKey({ seed: new Uint8Array(32).fill(1) });
const b = createSigningKey({ seed: new Uint8Array(32).fill(2) });
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

const document = (overrides: Record<string, unknown> = {}, keys?: unknown[]) => ({
  format: "subflash-trust-store",
  version: 1,
  threshold: 1,
  keys: keys ?? [
    { id: a.id, publicKey: hex(a.publicKey), label: "release A", notBefore: "2026-01-01T00:00:00Z" },
    { id: b.id, publicKey: hex(b.publicKey) },
  ],
  ...overrides,
});

function expectRefusal(value: unknown, message: RegExp): void {
  try {
    parseTrustStore(value, "trust.json");
  } catch (error) {
    expect(error).toBeInstanceOf(SigningError);
    expect((error as SigningError).code).toBe("bad-trust-store");
    expect((error as SigningError).message).toMatch(message);
    return;
  }
  throw new Error("accepted");
}

describe("parseTrustStore", () => {
  it("reads keys, labels, validity windows and the threshold", () => {
    const store = parseTrustStore(document({ threshold: 2 }));
    expect(store.threshold).toBe(2);
    expect(store.keys.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(store.keys[0]).toMatchObject({ label: "release A", notBefore: new Date("2026-01-01T00:00:00Z") });
  });

  it("refuses an entry whose id is not derived from its public key", () => {
    expectRefusal(
      document({}, [{ id: b.id, publicKey: hex(a.publicKey) }]),
      /keys\.0\.id: .* is not the id of this public key/,
    );
  });

  it("refuses a threshold above the number of keys, and zero", () => {
    expectRefusal(document({ threshold: 3 }), /threshold: 3 signatures required but only 2 keys/);
    expectRefusal(document({ threshold: 0 }), /threshold/);
  });

  it("refuses a key listed twice", () => {
    expectRefusal(
      document({}, [
        { id: a.id, publicKey: hex(a.publicKey) },
        { id: a.id, publicKey: hex(a.publicKey).toUpperCase() },
      ]),
      /listed twice/,
    );
  });

  it("refuses a weak public key", () => {
    const identity = `01${"00".repeat(31)}`;
    const id = createSigningKey({ seed: new Uint8Array(32) }).id; // any id: the weakness is reported as well as the mismatch
    expectRefusal(document({}, [{ id, publicKey: identity }]), /small order/);
  });

  it("names every problem by path at once", () => {
    const value = {
      format: "subflash-trust-store",
      version: 1,
      threshold: "1",
      keys: [{ id: "xyz", publicKey: "00" }],
      extra: true,
    };
    expect(() => parseTrustStore(value, "trust.json")).toThrow(SigningError);
    try {
      parseTrustStore(value, "trust.json");
    } catch (error) {
      const message = (error as SigningError).message;
      for (const part of ["trust.json", "threshold", "keys.0.id", "keys.0.publicKey", '"extra"'])
        expect(message).toContain(part);
    }
  });

  it("refuses a window that ends before it starts, and dates that are not ISO-8601", () => {
    expectRefusal(
      document({}, [
        {
          id: a.id,
          publicKey: hex(a.publicKey),
          notBefore: "2026-02-01T00:00:00Z",
          notAfter: "2026-01-01T00:00:00Z",
        },
      ]),
      /notBefore must be before notAfter/,
    );
    expectRefusal(
      document({}, [{ id: a.id, publicKey: hex(a.publicKey), notAfter: "next tuesday" }]),
      /keys\.0\.notAfter/,
    );
  });
});

describe("isKeyValidAt", () => {
  it("counts notBefore as inside and notAfter as outside the window", () => {
    const key = { id: a.id, publicKey: a.publicKey, notBefore: new Date(1000), notAfter: new Date(2000) };
    expect(isKeyValidAt(key, new Date(999))).toBe(false);
    expect(isKeyValidAt(key, new Date(1000))).toBe(true);
    expect(isKeyValidAt(key, new Date(1999))).toBe(true);
    expect(isKeyValidAt(key, new Date(2000))).toBe(false);
  });
});

describe("trust store files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "subflash-trust-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips through saveTrustStore and loadTrustStore", async () => {
    const path = join(dir, "trust.json");
    const store = parseTrustStore(document());
    await saveTrustStore(path, store);
    expect(await loadTrustStore(path)).toEqual(store);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(trustStoreDocument(store));
  });

  it("reports a missing file as file-unreadable and bad JSON as bad-trust-store, naming the path", async () => {
    await expect(loadTrustStore(join(dir, "missing.json"))).rejects.toMatchObject({
      code: "file-unreadable",
      message: expect.stringContaining("missing.json") as unknown,
    });
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{ nope");
    await expect(loadTrustStore(broken)).rejects.toMatchObject({
      code: "bad-trust-store",
      message: expect.stringContaining("not valid JSON") as unknown,
    });
  });
});
