import { describe, expect, it } from "vitest";
import { ImageError } from "../../../src/targets/image/errors.js";
import { parseIntelHex } from "../../../src/targets/image/intel-hex.js";

/** One Intel HEX record with a correct checksum. */
function record(type: number, offset: number, data: readonly number[] = []): string {
  const bytes = [data.length, offset >> 8, offset & 0xff, type, ...data];
  const checksum = -bytes.reduce((a, b) => a + b, 0) & 0xff;
  return ":" + [...bytes, checksum].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
}
const EOF_RECORD = ":00000001FF";
const linear = (upper: number): string => record(4, 0, [upper >> 8, upper & 0xff]);
const seq = (n: number, seed = 0): number[] => Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

function hexError(text: string): ImageError {
  try {
    parseIntelHex(text, "fw.hex");
  } catch (e) {
    if (e instanceof ImageError) return e;
    throw e;
  }
  throw new Error("parseIntelHex accepted the text");
}

describe("parseIntelHex", () => {
  it("reads data under an extended linear address and merges adjacent records", () => {
    const text = [
      linear(0x0800),
      record(0, 0x0000, seq(16)),
      record(0, 0x0010, seq(16, 16)),
      record(5, 0, [0x08, 0, 0x01, 0x01]),
      EOF_RECORD,
    ].join("\n");
    const image = parseIntelHex(text, "fw.hex");
    expect(image.format).toBe("hex");
    expect(image.segments).toHaveLength(1);
    expect(image.segments[0]!.address).toBe(0x08000000);
    expect(image.segments[0]!.data).toEqual(Uint8Array.from(seq(32)));
  });

  it("keeps separate segments for data with a gap, in address order", () => {
    const text = [
      linear(0x0800),
      record(0, 0x1000, [1, 2]),
      record(0, 0x0000, [3, 4]),
      linear(0x0801),
      record(0, 0x0000, [5]),
      EOF_RECORD,
    ].join("\r\n");
    const image = parseIntelHex(text);
    expect(image.segments.map((s) => [s.address, Array.from(s.data)])).toEqual([
      [0x08000000, [3, 4]],
      [0x08001000, [1, 2]],
      [0x08010000, [5]],
    ]);
  });

  it("reads extended segment addresses (type 02, base × 16) and ignores start addresses (03)", () => {
    const text = [
      record(2, 0, [0x10, 0x00]),
      record(3, 0, [0, 0, 0, 0]),
      record(0, 0x0004, [9, 8, 7]),
      EOF_RECORD,
    ].join("\n");
    const image = parseIntelHex(text);
    expect(image.segments[0]!.address).toBe(0x10004);
  });

  it("tolerates blank lines, surrounding blanks, lower-case digits and a byte-order mark", () => {
    const text = "\uFEFF\n  " + record(0, 0, [0xab]).toLowerCase() + "  \n\n" + EOF_RECORD + "\n\n";
    expect(Array.from(parseIntelHex(text).segments[0]!.data)).toEqual([0xab]);
  });

  it.each([
    [
      "a bad checksum",
      [record(0, 0, [1, 2]).slice(0, -2) + "00", EOF_RECORD],
      1,
      /checksum 0x00 is wrong, expected 0xFB/,
    ],
    ["a line without ':'", [record(0, 0, [1]), "0100000001FE", EOF_RECORD], 2, /must start with ':'/],
    ["a non-hex digit", [":01000000G1FE", EOF_RECORD], 1, /"G" at column 10 is not a hex digit/],
    ["an odd digit count", [":0100000001F", EOF_RECORD], 1, /odd number of hex digits/],
    ["a record too short", [":0000", EOF_RECORD], 1, /record too short/],
    [
      "a byte count mismatch",
      [":0200000001FE", EOF_RECORD],
      1,
      /byte count says 2 data bytes but the record carries 1/,
    ],
    ["an unknown record type", [record(6, 0, []), EOF_RECORD], 1, /unknown record type 0x06/],
    ["a type-04 record of the wrong length", [record(4, 0, [8]), EOF_RECORD], 1, /must carry 2 data bytes/],
    [
      "data after the end-of-file record",
      [record(0, 0, [1]), EOF_RECORD, record(0, 1, [2])],
      3,
      /data after the end-of-file record of line 2/,
    ],
    [
      "a record running past its 64 KiB window",
      [record(0, 0xfffe, [1, 2, 3]), EOF_RECORD],
      1,
      /runs past the 64 KiB window/,
    ],
    [
      "a linear base at 0x80000000 or above",
      [linear(0x9000), record(0, 0, [1]), EOF_RECORD],
      1,
      /0x90000000/,
    ],
  ])("refuses %s with malformed-hex naming the line", (_, lines, line, message) => {
    const e = hexError(lines.join("\n"));
    expect(e.code).toBe("malformed-hex");
    expect(e.message).toContain(`fw.hex line ${line}:`);
    expect(e.message).toMatch(message);
    expect(e.context).toMatchObject({ source: "fw.hex", line });
  });

  it("refuses a file without an end-of-file record", () => {
    const e = hexError([record(0, 0, [1]), record(0, 1, [2])].join("\n"));
    expect(e.code).toBe("malformed-hex");
    expect(e.message).toMatch(/line 2: no end-of-file record/);
  });

  it("refuses overlapping records with overlap, naming both lines", () => {
    const e = hexError(
      [linear(0x0800), record(0, 0x0000, seq(16)), record(0, 0x0008, seq(4)), EOF_RECORD].join("\n"),
    );
    expect(e.code).toBe("overlap");
    expect(e.message).toBe(
      "fw.hex line 3: data 0x08000008–0x0800000C overlaps line 2 (0x08000000–0x08000010) [overlap]",
    );
  });

  it("refuses two records at the same address as an overlap", () => {
    const e = hexError([record(0, 0x10, [1]), record(0, 0x10, [2]), EOF_RECORD].join("\n"));
    expect(e.code).toBe("overlap");
  });

  it("refuses a file with no data as empty", () => {
    expect(hexError([linear(0x0800), EOF_RECORD].join("\n")).code).toBe("empty");
    expect(hexError("").code).toBe("malformed-hex");
  });

  it("ignores empty data records, even at an address used by another record", () => {
    const image = parseIntelHex([record(0, 0x20, []), record(0, 0x20, [7]), EOF_RECORD].join("\n"));
    expect(image.segments.map((s) => [s.address, s.data.length])).toEqual([[0x20, 1]]);
  });
});
