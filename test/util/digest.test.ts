import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32, sha256, stm32Crc, stm32CrcOfSuffix } from "../../src/util/digest.js";

/**
 * Reference: bit-at-a-time CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final
 * xor) over a byte stream, written straight from the parameter definition.
 */
function crcMpeg2(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((crc >>> 31) ^ (byte >>> bit)) & 1;
      crc = ((crc << 1) ^ (top ? 0x04c11db7 : 0)) >>> 0;
    }
  }
  return crc >>> 0;
}

/** The STM32 unit feeds each little-endian word MSB first: the same as MPEG-2 over each word's bytes reversed. */
function stm32Reference(bytes: Uint8Array): number {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4).fill(0xff);
  padded.set(bytes);
  const swapped = new Uint8Array(padded.length);
  for (let i = 0; i < padded.length; i += 4)
    swapped.set([padded[i + 3]!, padded[i + 2]!, padded[i + 1]!, padded[i]!], i);
  return crcMpeg2(swapped);
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("sha256", () => {
  it("matches the FIPS 180-2 example for 'abc'", () => {
    expect(Buffer.from(sha256(ascii("abc"))).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("crc32", () => {
  it("gives the catalogued check value 0xCBF43926 for '123456789'", () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
  });

  it("is unsigned", () => {
    expect(crc32(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBeGreaterThan(0);
  });
});

describe("stm32Crc", () => {
  it("has a reference that gives the catalogued CRC-32/MPEG-2 check value 0x0376E6E7", () => {
    expect(crcMpeg2(ascii("123456789"))).toBe(0x0376e6e7);
  });

  it("returns the initial value 0xFFFFFFFF for no bytes", () => {
    expect(stm32Crc(new Uint8Array(0))).toBe(0xffffffff);
  });

  it("gives 0xDF8A8A2B for the single word 0x12345678, the value the STM32 CRC unit is known to produce", () => {
    expect(stm32Crc(Uint8Array.of(0x78, 0x56, 0x34, 0x12))).toBe(0xdf8a8a2b);
  });

  it("pads a length that is not a multiple of 4 with 0xFF bytes", () => {
    const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6);
    expect(stm32Crc(bytes)).toBe(stm32Crc(Uint8Array.of(1, 2, 3, 4, 5, 6, 0xff, 0xff)));
    expect(stm32Crc(bytes)).not.toBe(stm32Crc(Uint8Array.of(1, 2, 3, 4, 5, 6, 0, 0)));
  });

  it("agrees with the bitwise reference on arbitrary images", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(stm32Crc(bytes)).toBe(stm32Reference(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("accepts a subarray at an odd offset", () => {
    const backing = Uint8Array.from({ length: 41 }, (_, i) => i * 7);
    const view = backing.subarray(3, 40);
    expect(stm32Crc(view)).toBe(stm32Reference(Uint8Array.from(view)));
  });
});

describe("stm32CrcOfSuffix", () => {
  const words = (max: number) =>
    fc.integer({ min: 0, max }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 }));

  it("derives the CRC of B from the CRCs of A‖B and A, for any word-aligned A and B", () => {
    fc.assert(
      fc.property(words(40), words(40), (a, b) => {
        const whole = new Uint8Array(a.length + b.length);
        whole.set(a);
        whole.set(b, a.length);
        expect(stm32CrcOfSuffix(stm32Crc(whole), stm32Crc(a), b.length)).toBe(stm32Crc(b));
      }),
      { numRuns: 300 },
    );
  });

  it("gives a different answer when A‖B's CRC is not the real one (a derived CRC inherits a lie)", () => {
    const a = Uint8Array.of(1, 2, 3, 4);
    const b = Uint8Array.of(5, 6, 7, 8, 9, 10, 11, 12);
    const whole = Uint8Array.of(...a, ...b);
    expect(stm32CrcOfSuffix(stm32Crc(whole) ^ 1, stm32Crc(a), b.length)).not.toBe(stm32Crc(b));
  });

  it("refuses a suffix length that is not a whole number of words", () => {
    expect(() => stm32CrcOfSuffix(0, 0, 6)).toThrow(RangeError);
  });
});
