import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeGet, decodeGetId, decodeGetVersion } from "../../../src/targets/stm32/commands/identify.js";
import { encodeWriteData } from "../../../src/targets/stm32/commands/memory.js";
import {
  encodeExtendedErase,
  encodeLegacyErase,
  eraseBatches,
} from "../../../src/targets/stm32/commands/erase.js";
import { encodeWriteProtect } from "../../../src/targets/stm32/commands/protection.js";
import { decodeChecksum } from "../../../src/targets/stm32/commands/checksum.js";
import { commandName, versionString } from "../../../src/targets/stm32/commands/codes.js";
import { resolveDevice } from "../../../src/targets/stm32/devices.js";
import { xor } from "../../../src/targets/stm32/link-frames.js";

describe("command encoding", () => {
  it("decodes the Get payload into version and command list", () => {
    expect(decodeGet(Uint8Array.of(0x22, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43))).toEqual({
      version: 0x22,
      commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43],
    });
  });

  it("decodes Get Version, including the L412/422 bootloader's extra ACK before the version", () => {
    expect(decodeGetVersion(Uint8Array.of(0x31, 0x00, 0x00, 0x79))).toEqual({
      reply: { version: 0x31, option1: 0, option2: 0 },
      extraAck: false,
    });
    expect(decodeGetVersion(Uint8Array.of(0x79, 0x31, 0x00, 0x00))).toEqual({
      reply: { version: 0x31, option1: 0, option2: 0 },
      extraAck: true,
    });
  });

  it("decodes the PID from Get ID and keeps extra bytes, refusing a short reply", () => {
    expect(decodeGetId(Uint8Array.of(0x04, 0x10))).toEqual({ pid: 0x410, extra: [] });
    expect(decodeGetId(Uint8Array.of(0x04, 0x60, 0x01))).toEqual({ pid: 0x460, extra: [1] });
    expect(() => decodeGetId(Uint8Array.of(0x04))).toThrow(/at least 2/);
  });

  it("encodes a Write Memory data frame as N−1, data, XOR", () => {
    const frame = encodeWriteData(Uint8Array.of(1, 2, 3, 4));
    expect([...frame]).toEqual([3, 1, 2, 3, 4, 3 ^ 1 ^ 2 ^ 3 ^ 4]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (data) => {
        const f = encodeWriteData(data);
        expect(f.length).toBe(data.length + 2);
        expect(f[0]).toBe(data.length - 1);
        expect(xor(f)).toBe(0);
      }),
    );
  });

  it("encodes the legacy erase: FF 00 for global, one byte per page otherwise, at most 255 pages 0..255", () => {
    expect([...encodeLegacyErase({ kind: "mass" })]).toEqual([0xff, 0x00]);
    expect([...encodeLegacyErase({ kind: "units", indexes: [0, 1, 255] })]).toEqual([
      2,
      0,
      1,
      255,
      2 ^ 0 ^ 1 ^ 255,
    ]);
    expect(() =>
      encodeLegacyErase({ kind: "units", indexes: Array.from({ length: 256 }, (_, i) => i) }),
    ).toThrow(/at most 255/);
    expect(() => encodeLegacyErase({ kind: "units", indexes: [256] })).toThrow(
      /page number 256 is outside 0..255/,
    );
    expect(() => encodeLegacyErase({ kind: "bank", bank: 1 })).toThrow(/Extended Erase/);
  });

  it("encodes the extended erase special codes and two-byte page lists", () => {
    expect([...encodeExtendedErase({ kind: "mass" })]).toEqual([0xff, 0xff, 0x00]);
    expect([...encodeExtendedErase({ kind: "bank", bank: 1 })]).toEqual([0xff, 0xfe, 0x01]);
    expect([...encodeExtendedErase({ kind: "bank", bank: 2 })]).toEqual([0xff, 0xfd, 0x02]);
    expect([...encodeExtendedErase({ kind: "units", indexes: [0x0102, 5] })]).toEqual([
      0x00,
      0x01,
      0x01,
      0x02,
      0x00,
      0x05,
      0x01 ^ 0x01 ^ 0x02 ^ 0x05,
    ]);
    expect(() => encodeExtendedErase({ kind: "units", indexes: [] })).toThrow(/empty page list/);
  });

  it("splits erase lists at the device limit (511 on L0) and at 255 for the legacy command", () => {
    const l073 = resolveDevice("l073");
    const all = Array.from({ length: 1200 }, (_, i) => i);
    expect(eraseBatches(l073, 0x44, all).map((b) => b.length)).toEqual([511, 511, 178]);
    expect(eraseBatches(resolveDevice("f103"), 0x43, all.slice(0, 300)).map((b) => b.length)).toEqual([
      255, 45,
    ]);
    expect(eraseBatches(l073, 0x44, all).flat()).toEqual(all);
  });

  it("encodes Write Protect sector lists and decodes the Get Checksum reply", () => {
    expect([...encodeWriteProtect([0, 3])]).toEqual([1, 0, 3, 1 ^ 3]);
    expect(() => encodeWriteProtect([])).toThrow(/1..256/);
    expect(decodeChecksum(Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x12 ^ 0x34 ^ 0x56 ^ 0x78))).toBe(0x12345678);
    expect(decodeChecksum(Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x00))).toBeUndefined();
  });

  it("names commands and versions for messages", () => {
    expect(commandName(0xa1)).toBe("Get Checksum (0xA1)");
    expect(commandName(0x06)).toBe("command 0x06");
    expect(versionString(0x31)).toBe("3.1");
  });
});
