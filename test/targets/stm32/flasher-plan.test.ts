import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveDevice } from "../../../src/targets/stm32/devices.js";
import { planFlash, writeGranule } from "../../../src/targets/stm32/flasher-plan.js";
import { image, pattern } from "./helpers.js";

const FLASH = 0x08000000;
const KiB = 1024;
const f407 = resolveDevice("f407");
const f103 = resolveDevice("f103");
const g071 = resolveDevice("g071");
const l073 = resolveDevice("l073");
const h743 = resolveDevice("h743");

describe("flash planning", () => {
  it("erases exactly the F4 sectors the image covers", () => {
    // 0x08000000–0x08012000: sectors 0–3 (16 KiB each) and 4 (64 KiB, 0x08010000–0x08020000).
    const plan = planFlash(f407, image(FLASH, pattern(72 * KiB)), { opcode: 0x44 });
    expect(plan.erase.kind).toBe("units");
    expect(plan.erase.units.map((u) => u.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it("erases only the 128 KiB sector an image in the middle of an F4 touches", () => {
    const plan = planFlash(f407, image(0x08040000 + 100 * 4, pattern(4 * KiB)), { opcode: 0x44 });
    expect(plan.erase.units.map((u) => u.index)).toEqual([6]);
  });

  it("erases the F1 pages an image spans, including partial first and last pages", () => {
    const plan = planFlash(f103, image(FLASH + 1000, pattern(2000)), { opcode: 0x43 });
    expect(plan.erase.kind).toBe("units");
    if (plan.erase.kind === "units") {
      expect(plan.erase.units.map((u) => u.index)).toEqual([0, 1, 2]);
      expect(plan.erase.batches).toEqual([[0, 1, 2]]);
    }
  });

  it("uses a mass erase when the image covers every unit and that is quicker", () => {
    const full = planFlash(f103, image(FLASH, pattern(128 * KiB)), { opcode: 0x43 });
    expect(full.erase.kind).toBe("mass");
    expect(full.note).toMatch(/covers every erase unit/);
    const almost = planFlash(f103, image(FLASH, pattern(127 * KiB)), { opcode: 0x43 });
    expect(almost.erase.kind).toBe("units");
  });

  it("never mass-erases an L0: a full image or an explicit mass request becomes page lists split at 511", () => {
    const full = planFlash(l073, image(FLASH, pattern(192 * KiB)), { opcode: 0x44 });
    expect(full.erase.kind).toBe("units");
    const asked = planFlash(l073, image(FLASH, pattern(256)), { opcode: 0x44, erase: "mass" });
    expect(asked.erase.kind).toBe("units");
    if (asked.erase.kind === "units") {
      expect(asked.erase.units).toHaveLength(1536);
      expect(asked.erase.batches.map((b) => b.length)).toEqual([511, 511, 511, 3]);
    }
    expect(asked.note).toMatch(/has no mass erase/);
  });

  it("mass-erases when asked on parts that can", () => {
    expect(planFlash(g071, image(FLASH, pattern(256)), { opcode: 0x44, erase: "mass" }).erase.kind).toBe(
      "mass",
    );
  });

  it("refuses before anything is erased when the legacy 0x43 cannot number a page", () => {
    const f1xl = {
      ...f103,
      flash: { start: FLASH, end: FLASH + 512 * KiB },
      erase: { kind: "pages" as const, pageSize: KiB },
    };
    expect(() => planFlash(f1xl, image(FLASH + 300 * KiB, pattern(256)), { opcode: 0x43 })).toThrow(
      /unit 300 .* cannot be named by the legacy Erase command 0x43/,
    );
  });

  it("refuses an image outside the flash, naming both ranges", () => {
    expect(() => planFlash(g071, image(FLASH, pattern(128 * KiB + 4)), { opcode: 0x44 })).toThrow(
      /image 0x08000000–0x08020004 does not fit flash 0x08000000–0x08020000 of STM32G07x\/G08x \(PID 0x460\)/,
    );
    expect(() => planFlash(g071, image(0x20000000, pattern(16)), { opcode: 0x44 })).toThrow(
      /does not fit flash/,
    );
    try {
      planFlash(g071, image(FLASH - 4, pattern(16)), { opcode: 0x44 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ domain: "image", code: "out-of-range" });
    }
  });

  it("writes 256-byte blocks on 256-byte boundaries and skips blocks that are all 0xFF", () => {
    const data = pattern(1024);
    data.fill(0xff, 256, 512);
    const plan = planFlash(g071, image(FLASH, data), { opcode: 0x44 });
    expect(plan.blocks.map((b) => [b.address - FLASH, b.data.length])).toEqual([
      [0, 256],
      [512, 256],
      [768, 256],
    ]);
    expect(plan.skippedBlocks).toBe(1);
    expect(plan.ranges).toHaveLength(1);
    expect(plan.ranges[0]!.data).toEqual(data);
  });

  it("aligns writes to the flash word and pads tails with 0xFF", () => {
    // G0 has a 64-bit flash word: an image at +3 of 10 bytes becomes [0, 16) with 0xFF around it.
    const plan = planFlash(g071, image(FLASH + 3, pattern(10)), { opcode: 0x44 });
    expect(writeGranule(g071)).toBe(8);
    expect(plan.blocks).toHaveLength(1);
    const block = plan.blocks[0]!;
    expect(block.address).toBe(FLASH);
    expect(block.data.length).toBe(16);
    expect([...block.data.subarray(0, 3)]).toEqual([0xff, 0xff, 0xff]);
    expect(block.data.subarray(3, 13)).toEqual(pattern(10));
    expect([...block.data.subarray(13)]).toEqual([0xff, 0xff, 0xff]);
    // H7 writes 32-byte flash words; F1 (16-bit words) still writes multiples of 4 (AN3155).
    expect(planFlash(h743, image(FLASH + 40, pattern(1)), { opcode: 0x44 }).blocks[0]).toMatchObject({
      address: FLASH + 32,
    });
    expect(planFlash(h743, image(FLASH + 40, pattern(1)), { opcode: 0x44 }).blocks[0]!.data).toHaveLength(32);
    expect(planFlash(f103, image(FLASH + 6, pattern(1)), { opcode: 0x43 }).blocks[0]).toMatchObject({
      address: FLASH + 4,
    });
  });

  it("trims blank words off block edges without moving off the flash word", () => {
    const data = new Uint8Array(256).fill(0xff);
    data.set(pattern(20), 100);
    const [block] = planFlash(g071, image(FLASH, data), { opcode: 0x44 }).blocks;
    expect(block!.address).toBe(FLASH + 96);
    expect(block!.data.length).toBe(24); // words [96, 120) hold the 20 bytes at 100..119
  });

  it("fills a short gap between segments in erased flash instead of splitting the range", () => {
    const plan = planFlash(g071, image(FLASH, pattern(100), { address: FLASH + 200, data: pattern(50, 3) }), {
      opcode: 0x44,
    });
    expect(plan.ranges).toHaveLength(1);
    expect(plan.blocks).toHaveLength(1);
    expect(plan.blocks[0]!.data.length).toBe(256);
    expect([...plan.blocks[0]!.data.subarray(100, 200)].every((b) => b === 0xff)).toBe(true);
  });

  it("keeps segments in different erase units apart when the flash between them is not erased", () => {
    // Two segments 8 KiB apart on a G0 (2 KiB pages): the pages in between are neither erased nor written.
    const plan = planFlash(g071, image(FLASH, pattern(64), { address: FLASH + 8 * KiB, data: pattern(64) }), {
      opcode: 0x44,
    });
    expect(plan.ranges.map((r) => r.address)).toEqual([FLASH, FLASH + 8 * KiB]);
    if (plan.erase.kind === "units") expect(plan.erase.units.map((u) => u.index)).toEqual([0, 4]);
  });
});

describe("trimming the 0xFF edges of partly blank blocks", () => {
  it("writes a block with a 0xFF head and tail from its first non-blank flash word to its last", () => {
    // G0 flash word = 8 bytes: non-blank bytes 17..229 lie in the words [16, 232).
    const data = new Uint8Array(512).fill(0xff);
    data.set(pattern(213), 17);
    data.set(pattern(256, 2), 256); // a second, full block
    const plan = planFlash(g071, image(FLASH, data), { opcode: 0x44 });
    expect(plan.blocks.map((b) => [b.address - FLASH, b.data.length])).toEqual([
      [16, 216],
      [256, 256],
    ]);
    expect(plan.blocks[0]!.data).toEqual(data.subarray(16, 232));
    // The verified range still spans the whole image, edges included.
    expect(plan.ranges.map((r) => [r.address - FLASH, r.data.length])).toEqual([[0, 512]]);
  });

  it("trims in whole 8-byte flash words on G0: a lone non-blank byte keeps its whole word", () => {
    const data = new Uint8Array(256).fill(0xff);
    data[255] = 0x00;
    data[130] = 0x12;
    const [block] = planFlash(g071, image(FLASH, data), { opcode: 0x44 }).blocks;
    expect(block!.address).toBe(FLASH + 128);
    expect(block!.data.length).toBe(128); // [128, 256): the word of byte 130 up to the word of byte 255
  });

  it("trims F1 blocks in 4-byte steps although its flash word is 2 bytes (AN3155 Write Memory)", () => {
    expect(f103.flashWord).toBe(2);
    expect(writeGranule(f103)).toBe(4);
    const data = new Uint8Array(256).fill(0xff);
    data.set([1, 2, 3], 6); // bytes 6..8: 2-byte words would give [6, 10), 4-byte steps give [4, 12)
    const [block] = planFlash(f103, image(FLASH, data), { opcode: 0x43 }).blocks;
    expect(block!.address).toBe(FLASH + 4);
    expect([...block!.data]).toEqual([0xff, 0xff, 1, 2, 3, 0xff, 0xff, 0xff]);
  });

  it("writes only inside erased units, aligned to the write granule, and covers every non-blank image byte", () => {
    // No write path skips the erase: every block (trimmed or not) lies in units the plan erases, so
    // the 0xFF it leaves out is what the erase put there (AN2606: erased flash reads 0xFF).
    const gapped = fc
      .tuple(
        fc.constantFrom(f103, g071, f407),
        fc.integer({ min: 0, max: 63 }),
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.array(fc.tuple(fc.nat(3000), fc.integer({ min: 1, max: 700 })), { maxLength: 6 }),
      )
      .map(([device, offset, bytes, gaps]) => {
        const data = Uint8Array.from(bytes);
        for (const [at, length] of gaps) data.fill(0xff, at, at + length);
        return { device, address: FLASH + 2 * KiB + offset, data };
      });
    fc.assert(
      fc.property(gapped, ({ device, address, data }) => {
        const plan = planFlash(device, image(address, data), { opcode: device === f103 ? 0x43 : 0x44 });
        const granule = writeGranule(device);
        const units = plan.erase.units;
        for (const b of plan.blocks) {
          expect(b.address % granule).toBe(0);
          expect(b.data.length % granule).toBe(0);
          expect(b.data.length).toBeGreaterThan(0);
          expect(Math.floor(b.address / 256)).toBe(Math.floor((b.address + b.data.length - 1) / 256));
          for (let at = b.address; at < b.address + b.data.length;) {
            const unit = units.find((u) => u.start <= at && at < u.start + u.size);
            expect(unit, `byte at ${at.toString(16)} lies in an erased unit`).toBeDefined();
            at = unit!.start + unit!.size;
          }
          // The written bytes are the image's (0xFF where the image has none).
          for (let i = 0; i < b.data.length; i++) {
            const at = b.address + i - address;
            expect(b.data[i]).toBe(at >= 0 && at < data.length ? data[at] : 0xff);
          }
        }
        data.forEach((byte, i) => {
          if (byte === 0xff) return;
          const at = address + i;
          expect(plan.blocks.some((b) => b.address <= at && at < b.address + b.data.length)).toBe(true);
        });
        // Trimmed edges are blank: the first and last flash word of a block hold a non-0xFF byte.
        for (const b of plan.blocks) {
          expect(b.data.subarray(0, granule).some((x) => x !== 0xff)).toBe(true);
          expect(b.data.subarray(b.data.length - granule).some((x) => x !== 0xff)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
