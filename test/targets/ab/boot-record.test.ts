import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BOOT_RECORD_SIZE,
  copyToWrite,
  decideBoot,
  decodeBootRecord,
  encodeBootRecord,
  type BootRecord,
  type BootRecordCopy,
} from "../../../src/targets/ab/boot-record.js";

/** The STM32 CRC unit, bit by bit (poly 0x04C11DB7, init 0xFFFFFFFF, 32-bit little-endian words, MSB first). */
function bitwiseStm32Crc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 4) {
    crc = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    for (let bit = 0; bit < 32; bit++) crc = (crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1) >>> 0;
  }
  return crc;
}

const record = (over: Partial<BootRecord> = {}): BootRecord => ({
  sequence: 7,
  trial: false,
  active: "b",
  activeAddress: 0x08012000,
  imageLength: 3000,
  imageCrc: 0xdeadbeef,
  fallback: "a",
  fallbackAddress: 0x08004000,
  ...over,
});

const ERASED = new Uint8Array(BOOT_RECORD_SIZE).fill(0xff);
const copy = (bytes: Uint8Array): BootRecordCopy => decodeBootRecord(bytes);
/** The selector marks a trial as used by programming the marker word to zeros. */
const used = (bytes: Uint8Array): Uint8Array => {
  const out = bytes.slice();
  out.fill(0, 32, 64);
  return out;
};

describe("boot record format", () => {
  it("encodes the documented layout and decodes it back", () => {
    const bytes = encodeBootRecord(record({ trial: true }));
    expect(bytes.length).toBe(64);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x53, 0x46, 0x42, 0x52, 1, 0x01, 1, 0]);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(8, true)).toBe(7);
    expect(view.getUint32(12, true)).toBe(0x08012000);
    // The record CRC is the STM32 CRC unit's (checked against an independent bitwise computation).
    expect(view.getUint32(28, true)).toBe(bitwiseStm32Crc(bytes.subarray(0, 28)));
    expect(bytes.subarray(32).every((b) => b === 0xff)).toBe(true);
    expect(copy(bytes)).toEqual({ record: record({ trial: true }), trialUsed: false, erased: false });
  });

  it("refuses a copy with a flipped bit, a wrong magic or version, and reports erased copies", () => {
    const bytes = encodeBootRecord(record());
    for (const at of [0, 4, 9, 20, 30]) {
      const bad = bytes.slice();
      bad[at]! ^= 0x04;
      expect(copy(bad).record, `bit flip at ${at}`).toBeNull();
    }
    expect(copy(ERASED)).toEqual({ record: null, trialUsed: false, erased: true });
  });

  it("boots the CRC-valid copy with the highest sequence", () => {
    const older = encodeBootRecord(record({ sequence: 3, active: "a", fallback: "b" }));
    const newer = encodeBootRecord(record({ sequence: 4, active: "b" }));
    expect(decideBoot([copy(older), copy(newer)])).toMatchObject({
      winner: 1,
      boots: "b",
      highestSequence: 4,
    });
    const torn = newer.slice();
    torn[13]! ^= 0xff;
    expect(decideBoot([copy(older), copy(torn)])).toMatchObject({
      winner: 0,
      boots: "a",
      highestSequence: 3,
    });
    expect(decideBoot([copy(ERASED), copy(ERASED)])).toMatchObject({
      winner: null,
      boots: "a",
      record: null,
    });
  });

  it("boots a trial once, then its fallback until a confirmed record replaces it", () => {
    const confirmed = encodeBootRecord(record({ sequence: 1, active: "a", fallback: "b" }));
    const trial = encodeBootRecord(record({ sequence: 2, trial: true, active: "b", fallback: "a" }));
    expect(decideBoot([copy(confirmed), copy(trial)])).toMatchObject({
      boots: "b",
      pendingTrial: true,
      trialExpired: false,
    });
    expect(decideBoot([copy(confirmed), copy(used(trial))])).toMatchObject({
      boots: "a",
      pendingTrial: false,
      trialExpired: true,
    });
    const confirm = encodeBootRecord(record({ sequence: 3, active: "b", fallback: "a" }));
    expect(decideBoot([copy(confirm), copy(used(trial))])).toMatchObject({
      boots: "b",
      winner: 0,
      trialExpired: false,
    });
  });

  it("writes a new record into the copy that is not the winner", () => {
    const winner0 = decideBoot([copy(encodeBootRecord(record({ sequence: 5 }))), copy(ERASED)]);
    expect(copyToWrite(winner0)).toBe(1);
    const winner1 = decideBoot([copy(ERASED), copy(encodeBootRecord(record({ sequence: 5 })))]);
    expect(copyToWrite(winner1)).toBe(0);
    expect(copyToWrite(decideBoot([copy(ERASED), copy(ERASED)]))).toBe(0);
  });

  it("leaves the previous decision or the new one, never anything else, when power is cut while a copy is rewritten", () => {
    const slot = fc.constantFrom("a" as const, "b" as const);
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: 1000 }),
          oldActive: slot,
          newActive: slot,
          trial: fc.boolean(),
        }),
        // Where the cut happens: after k bytes of the new copy were programmed (its unit erased first)…
        fc.integer({ min: 0, max: BOOT_RECORD_SIZE }),
        // …or in the middle of the erase, which leaves random bits.
        fc.option(fc.uint8Array({ minLength: BOOT_RECORD_SIZE, maxLength: BOOT_RECORD_SIZE })),
        ({ seq, oldActive, newActive, trial }, k, garbage) => {
          const current = encodeBootRecord(
            record({ sequence: seq, active: oldActive, fallback: oldActive === "a" ? "b" : "a" }),
          );
          const next = encodeBootRecord(
            record({ sequence: seq + 1, trial, active: newActive, fallback: oldActive }),
          );
          const before = decideBoot([copy(current), copy(ERASED)]);
          const target = copyToWrite(before);
          const torn = garbage ?? Uint8Array.from(next, (b, i) => (i < k ? b : 0xff));
          const copies: [BootRecordCopy, BootRecordCopy] =
            target === 1 ? [copy(current), copy(torn)] : [copy(torn), copy(current)];
          const after = decideBoot(copies);
          const complete = garbage === null && k >= 32;
          if (complete) expect(after.record).toEqual(decodeBootRecord(next).record);
          else expect([before.boots, newActive]).toContain(after.boots);
          // The current record is never lost while the other copy is rewritten.
          expect(after.record === null).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
