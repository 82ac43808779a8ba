import { describe, expect, it } from "vitest";
import { ImageError } from "../../../src/targets/image/errors.js";
import { parseElf } from "../../../src/targets/image/elf.js";
import { pattern, writeElf } from "./elf-writer.js";

function elfError(bytes: Uint8Array): ImageError {
  try {
    parseElf(bytes, "fw.elf");
  } catch (e) {
    if (e instanceof ImageError) return e;
    throw e;
  }
  throw new Error("parseElf accepted the file");
}

describe("parseElf", () => {
  it("loads a PT_LOAD segment at its physical address", () => {
    const text = pattern(300);
    const image = parseElf(writeElf([{ paddr: 0x08000000, data: text }]), "fw.elf");
    expect(image.format).toBe("elf");
    expect(image.source).toBe("fw.elf");
    expect(image.segments).toHaveLength(1);
    expect(image.segments[0]!.address).toBe(0x08000000);
    expect(image.segments[0]!.data).toEqual(text);
  });

  it("places .data at its load address (p_paddr in flash), not its RAM address (p_vaddr)", () => {
    const text = pattern(0x100);
    const data = pattern(0x20, 7);
    const image = parseElf(
      writeElf([
        { paddr: 0x08000000, data: text },
        { paddr: 0x08000100, vaddr: 0x20000000, data },
      ]),
    );
    // Adjacent in flash, so merged into one segment.
    expect(image.segments).toHaveLength(1);
    expect(image.segments[0]!.address).toBe(0x08000000);
    expect(image.segments[0]!.data.subarray(0x100)).toEqual(data);
  });

  it("skips .bss-like segments without file bytes and non-LOAD headers", () => {
    const image = parseElf(
      writeElf([
        { paddr: 0x08000000, data: pattern(64) },
        { paddr: 0x20000000, data: new Uint8Array(0), memsz: 0x400 },
        { type: 0x70000001, paddr: 0x08001000, data: pattern(16) }, // PT_ARM_EXIDX-like, not PT_LOAD
      ]),
    );
    expect(image.segments.map((s) => [s.address, s.data.length])).toEqual([[0x08000000, 64]]);
  });

  it("sorts segments and keeps gaps between them", () => {
    const image = parseElf(
      writeElf([
        { paddr: 0x08004000, data: pattern(16, 1) },
        { paddr: 0x08000000, data: pattern(32, 2) },
      ]),
    );
    expect(image.segments.map((s) => [s.address, s.data.length])).toEqual([
      [0x08000000, 32],
      [0x08004000, 16],
    ]);
  });

  it("refuses overlapping segments, naming both program headers", () => {
    const e = elfError(
      writeElf([
        { paddr: 0x08000000, data: pattern(0x100) },
        { paddr: 0x080000f0, data: pattern(0x20) },
      ]),
    );
    expect(e.code).toBe("overlap");
    expect(e.message).toMatch(/program header 1 .*overlaps program header 0/);
  });

  it.each([
    ["ELF64", writeElf([{ paddr: 0x08000000, data: pattern(8) }], { elfClass: 2 }), /ELF64/],
    ["big-endian", writeElf([{ paddr: 0x08000000, data: pattern(8) }], { data: 2 }), /big-endian/],
    [
      "non-ARM machine",
      writeElf([{ paddr: 0x08000000, data: pattern(8) }], { machine: 62 }),
      /e_machine 62 is not ARM/,
    ],
    [
      "relocatable object",
      writeElf([{ paddr: 0x08000000, data: pattern(8) }], { type: 1 }),
      /relocatable object/,
    ],
    ["no program headers", writeElf([], {}), /e_phnum = 0/],
    [
      "truncated header",
      writeElf([{ paddr: 0x08000000, data: pattern(8) }], { truncate: 40 }),
      /truncated ELF header/,
    ],
    [
      "truncated program header table",
      writeElf([{ paddr: 0x08000000, data: pattern(8) }], { phnum: 5 }),
      /truncated program header table/,
    ],
    [
      "segment past the end of the file",
      writeElf([{ paddr: 0x08000000, data: pattern(8), filesz: 4096 }]),
      /program header 0: p_offset .* past the end of the file/,
    ],
    [
      "bad p_offset",
      writeElf([{ paddr: 0x08000000, data: pattern(8), offset: 0xfffff0 }]),
      /p_offset 0xfffff0/,
    ],
    [
      "small e_phentsize",
      writeElf([{ paddr: 0x08000000, data: pattern(8) }], { phentsize: 16 }),
      /e_phentsize 16/,
    ],
    [
      "not ELF at all",
      new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
      /not an ELF file/,
    ],
  ])("refuses a %s with malformed-elf", (_, bytes, message) => {
    const e = elfError(bytes);
    expect(e.code).toBe("malformed-elf");
    expect(e.message).toMatch(message);
    expect(e.message).toContain("fw.elf");
  });

  it("refuses an executable without loadable bytes as empty", () => {
    const e = elfError(writeElf([{ paddr: 0x20000000, data: new Uint8Array(0), memsz: 64 }]));
    expect(e.code).toBe("empty");
  });

  it("reads ELF bytes that sit at an offset inside a larger buffer", () => {
    const elf = writeElf([{ paddr: 0x08000000, data: pattern(40) }]);
    const big = new Uint8Array(elf.length + 3);
    big.set(elf, 3);
    expect(parseElf(big.subarray(3)).segments[0]!.data).toEqual(pattern(40));
  });
});
