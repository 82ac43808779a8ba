import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Tag, encodeCbor } from "../../src/signing/cbor.js";
import {
  ALG_EDDSA,
  HeaderLabel,
  createSign,
  createSign1,
  decodeCose,
  sign1ToBeSigned,
  signToBeSigned,
  verifySign1,
  verifySignSignature,
} from "../../src/signing/cose.js";
import { keyPairFromSeed } from "../../src/signing/ed25519.js";

/** Public COSE WG examples (cose-wg/Examples, eddsa-examples), kept with their licence in test/fixtures/cose. */
const VECTORS = fileURLToPath(new URL("../fixtures/cose", import.meta.url));
interface Key {
  kid: string;
  x_hex: string;
  d_hex: string;
}
const sign1Vector = JSON.parse(readFileSync(`${VECTORS}/eddsa-sig-01.json`, "utf8")) as {
  input: { plaintext: string; sign0: { key: Key } };
  intermediates: { ToBeSign_hex: string };
  output: { cbor: string };
};
const signVector = JSON.parse(readFileSync(`${VECTORS}/eddsa-01.json`, "utf8")) as {
  input: { plaintext: string; sign: { signers: Array<{ key: Key }> } };
  intermediates: { signers: Array<{ ToBeSign_hex: string }> };
  output: { cbor: string };
};

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex").toUpperCase();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe("COSE_Sign1 (eddsa-sig-01)", () => {
  const key = sign1Vector.input.sign0.key;
  const pair = keyPairFromSeed(hex(key.d_hex));
  const bytes = hex(sign1Vector.output.cbor);

  it("decodes the published message and verifies its signature", () => {
    const decoded = decodeCose(bytes);
    if (!decoded.ok || decoded.message.kind !== "sign1")
      throw new Error(`not decoded: ${JSON.stringify(decoded)}`);
    expect(decoded.message.protectedHeader.get(HeaderLabel.alg)).toBe(ALG_EDDSA);
    expect(Buffer.from(decoded.message.unprotectedHeader.get(HeaderLabel.kid) as Uint8Array).toString()).toBe(
      key.kid,
    );
    expect(new TextDecoder().decode(decoded.message.payload)).toBe(sign1Vector.input.plaintext);
    expect(toHex(sign1ToBeSigned(decoded.message.protectedBytes, decoded.message.payload))).toBe(
      sign1Vector.intermediates.ToBeSign_hex,
    );
    expect(verifySign1(decoded.message, hex(key.x_hex))).toEqual({ valid: true });
  });

  it("is reproduced byte for byte by our encoder from the same inputs", () => {
    const ours = createSign1({
      protectedHeader: new Map<number, unknown>([
        [HeaderLabel.alg, ALG_EDDSA],
        [HeaderLabel.contentType, 0],
      ]),
      unprotectedHeader: new Map([[HeaderLabel.kid, text(key.kid)]]),
      payload: text(sign1Vector.input.plaintext),
      secretKey: pair.secretKey,
    });
    expect(toHex(ours)).toBe(sign1Vector.output.cbor);
  });

  it("does not verify with another key or over another payload", () => {
    const decoded = decodeCose(bytes);
    if (!decoded.ok || decoded.message.kind !== "sign1") throw new Error("not decoded");
    const other = keyPairFromSeed(new Uint8Array(32).fill(7));
    expect(verifySign1(decoded.message, other.publicKey)).toMatchObject({
      valid: false,
      reason: "bad-signature",
    });
    expect(
      verifySign1({ ...decoded.message, payload: text("This is the content!") }, hex(key.x_hex)),
    ).toMatchObject({ valid: false });
  });
});

describe("COSE_Sign (eddsa-01)", () => {
  const key = signVector.input.sign.signers[0]!.key;
  const pair = keyPairFromSeed(hex(key.d_hex));

  it("decodes the published message and verifies its signature", () => {
    const decoded = decodeCose(hex(signVector.output.cbor));
    if (!decoded.ok || decoded.message.kind !== "sign")
      throw new Error(`not decoded: ${JSON.stringify(decoded)}`);
    expect(decoded.message.signatures).toHaveLength(1);
    const signer = decoded.message.signatures[0]!;
    const tbs = signToBeSigned(
      decoded.message.protectedBytes,
      signer.protectedBytes,
      decoded.message.payload,
    );
    expect(toHex(tbs)).toBe(signVector.intermediates.signers[0]!.ToBeSign_hex);
    expect(verifySignSignature(decoded.message, 0, hex(key.x_hex))).toEqual({ valid: true });
  });

  it("is reproduced byte for byte by our encoder from the same inputs", () => {
    const ours = createSign({
      protectedHeader: new Map([[HeaderLabel.contentType, 0]]),
      payload: text(signVector.input.plaintext),
      signers: [
        {
          protectedHeader: new Map([[HeaderLabel.alg, ALG_EDDSA]]),
          unprotectedHeader: new Map([[HeaderLabel.kid, text(key.kid)]]),
          secretKey: pair.secretKey,
        },
      ],
    });
    expect(toHex(ours)).toBe(signVector.output.cbor);
  });

  it("round-trips several signers, each verifying with its own key only", () => {
    const keys = [1, 2, 3].map((n) => keyPairFromSeed(new Uint8Array(32).fill(n)));
    const bytes = createSign({
      protectedHeader: new Map([[HeaderLabel.contentType, "text/plain"]]),
      payload: text("hello"),
      signers: keys.map((k) => ({
        protectedHeader: new Map([[HeaderLabel.alg, ALG_EDDSA]]),
        secretKey: k.secretKey,
      })),
    });
    const decoded = decodeCose(bytes);
    if (!decoded.ok || decoded.message.kind !== "sign") throw new Error("not decoded");
    const message = decoded.message;
    keys.forEach((k, i) => expect(verifySignSignature(message, i, k.publicKey).valid).toBe(true));
    expect(verifySignSignature(message, 0, keys[1]!.publicKey).valid).toBe(false);
  });
});

describe("decodeCose refuses what is not a well-formed, tagged, deterministic COSE signature", () => {
  const good = hex(sign1Vector.output.cbor);
  const body = (): unknown[] => [hex("a201270300"), new Map(), text("x"), new Uint8Array(64)];

  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["bytes that are not CBOR", Uint8Array.of(0xff, 0x00), /not CBOR/],
    ["an untagged array", encodeCbor(body()), /not a tagged/],
    ["another tag (COSE_Mac0, 17)", encodeCbor(new Tag(body(), 17)), /not a tagged/],
    ["an array of the wrong length", encodeCbor(new Tag(body().slice(0, 3), 18)), /array of 4/],
    [
      "a detached payload",
      encodeCbor(new Tag([hex("a10127"), new Map(), null, new Uint8Array(64)], 18)),
      /detached/,
    ],
    [
      "a protected header that is not a map",
      encodeCbor(new Tag([encodeCbor([1]), new Map(), text("x"), new Uint8Array(64)], 18)),
      /must be a map/,
    ],
    [
      "an empty map spelled out as protected header",
      encodeCbor(new Tag([Uint8Array.of(0xa0), new Map(), text("x"), new Uint8Array(64)], 18)),
      /empty byte string/,
    ],
    [
      "a label both protected and unprotected",
      encodeCbor(new Tag([hex("a10127"), new Map([[1, -8]]), text("x"), new Uint8Array(64)], 18)),
      /both protected and unprotected/,
    ],
    [
      "a COSE_Sign without signatures",
      encodeCbor(new Tag([hex("a10300"), new Map(), text("x"), []], 98)),
      /non-empty array/,
    ],
    ["trailing bytes", Uint8Array.from([...good, 0x00]), /not CBOR/],
    ["a truncated message", good.subarray(0, good.length - 1), /not CBOR/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`refuses ${name}`, () => {
      const decoded = decodeCose(bytes);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    });
  }

  it("refuses a non-shortest length encoding of the same message", () => {
    // The payload byte string header 0x54 (20 bytes) rewritten as 0x58 0x14: same value, another spelling.
    const at = Buffer.from(good).indexOf(Buffer.from("5454686973", "hex"));
    const respelled = Uint8Array.from([...good.subarray(0, at), 0x58, 0x14, ...good.subarray(at + 1)]);
    const decoded = decodeCose(respelled);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringMatching(/deterministic/) as unknown });
  });
});
