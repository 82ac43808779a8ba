import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  addressFrame,
  byteFrame,
  checksummed,
  commandFrame,
  readU32,
  xor,
} from "../../../src/targets/stm32/link-frames.js";

describe("link frames", () => {
  it("sends every opcode with its complement", () => {
    expect([...commandFrame(0x00)]).toEqual([0x00, 0xff]);
    expect([...commandFrame(0x31)]).toEqual([0x31, 0xce]);
    expect([...commandFrame(0xa1)]).toEqual([0xa1, 0x5e]);
  });

  it("encodes addresses MSB first followed by their XOR", () => {
    expect([...addressFrame(0x08000000)]).toEqual([0x08, 0x00, 0x00, 0x00, 0x08]);
    expect([...addressFrame(0x1fff7a10)]).toEqual([0x1f, 0xff, 0x7a, 0x10, 0x1f ^ 0xff ^ 0x7a ^ 0x10]);
  });

  it("checksums a single byte with its complement and multi-byte frames with their XOR", () => {
    expect([...byteFrame(0xff)]).toEqual([0xff, 0x00]);
    expect([...byteFrame(0x03)]).toEqual([0x03, 0xfc]);
    expect([...checksummed(Uint8Array.of(0x01, 0x02, 0x04))]).toEqual([0x01, 0x02, 0x04, 0x07]);
  });

  it("builds frames whose XOR over all bytes is zero", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (payload) => {
        expect(xor(checksummed(payload))).toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (address) => {
        const frame = addressFrame(address);
        expect(xor(frame)).toBe(0);
        expect(readU32(frame)).toBe(address);
      }),
    );
  });
});
