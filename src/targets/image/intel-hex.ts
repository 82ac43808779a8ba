/**
 * Intel HEX images. Every record is checked here first, so that a malformed file is reported by line
 * number (nrf-intel-hex counts records, not lines, and stops at blank lines); the checked records are
 * then handed to nrf-intel-hex's MemoryMap.fromHex, which assembles the data blocks.
 *
 * Records: 00 data, 01 end of file, 02 extended segment address (base = value × 16), 03 start
 * segment address, 04 extended linear address (base = value << 16), 05 start linear address. The
 * start-address records (03, 05) say where a CPU would begin executing; a Cortex-M takes its reset
 * vector from the vector table instead, so they are accepted and ignored.
 */
import * as ihexModule from "nrf-intel-hex";
import { addr } from "../../util/logger.js";
import { ImageError } from "./errors.js";
import type { FirmwareImage } from "./image.js";
import { buildImage } from "./segments.js";

// nrf-intel-hex is CommonJS (`module.exports = MemoryMap`) with a typing that says `export default`;
// Node hands ESM importers module.exports as `default`, a bundler might nest it once more.
type MemoryMapClass = typeof ihexModule.default.default;
const exported = ihexModule.default as unknown as MemoryMapClass | { default: MemoryMapClass };
const MemoryMap: MemoryMapClass = "fromHex" in exported ? exported : exported.default;

/** Data bytes each record type must carry (undefined: any count, for data records). */
const RECORD_LENGTHS: readonly (number | undefined)[] = [undefined, 0, 2, 4, 2, 4];

interface CheckedRecord {
  line: number;
  text: string;
  type: number;
  offset: number;
  data: Uint8Array;
}

/**
 * Parses Intel HEX text into an image, merging adjacent data records into segments. Throws
 * ImageError "malformed-hex" naming the line (bad start character, non-hex digit, odd digit count, byte
 * count mismatch, checksum, unknown record type, missing or early end-of-file record), "overlap" when
 * two records write the same byte, and "empty" when no data record carries bytes.
 */
export function parseIntelHex(text: string, source = "<hex>"): FirmwareImage {
  const records = checkRecords(text, source);
  const data = records.filter((r) => r.type === 0 && r.data.length > 0);
  if (data.length === 0)
    throw new ImageError("empty", `${source}: the HEX file has no data records`, { source });
  checkAddresses(records, source);

  // Only records with data (plus the addressing ones) go to nrf-intel-hex: it would take two empty data
  // records at one address for duplicates. Record n of what it sees is kept[n - 1].
  const kept = records.filter((r) => r.type !== 0 || r.data.length > 0);
  let blocks: ReturnType<typeof MemoryMap.fromHex>;
  try {
    blocks = MemoryMap.fromHex(kept.map((r) => r.text).join("\n"));
  } catch (cause) {
    throw translateLibraryError(cause, kept, source);
  }
  const segments = [...blocks].map(([address, bytes]) => ({ address, data: bytes }));
  return buildImage("hex", source, segments, (i) => `block ${i}`);
}

function malformed(
  source: string,
  line: number,
  problem: string,
  extra: Record<string, unknown> = {},
): ImageError {
  return new ImageError("malformed-hex", `${source} line ${line}: ${problem}`, { source, line, ...extra });
}

/** Syntax, length and checksum of every line; blank lines are skipped, anything after EOF refused. */
function checkRecords(text: string, source: string): CheckedRecord[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const records: CheckedRecord[] = [];
  let eofLine: number | undefined;
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "") return;
    if (eofLine !== undefined)
      throw malformed(source, line, `data after the end-of-file record of line ${eofLine}`);
    if (!trimmed.startsWith(":"))
      throw malformed(source, line, `a record must start with ':' (found "${trimmed.slice(0, 12)}")`);
    const digits = trimmed.slice(1);
    const bad = /[^0-9A-Fa-f]/.exec(digits);
    if (bad) throw malformed(source, line, `"${bad[0]}" at column ${bad.index + 2} is not a hex digit`);
    if (digits.length % 2 !== 0) throw malformed(source, line, `odd number of hex digits (${digits.length})`);
    const bytes = Uint8Array.from(digits.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
    if (bytes.length < 5)
      throw malformed(source, line, `record too short (${bytes.length} bytes, at least 5)`);
    const count = bytes[0]!;
    if (bytes.length !== count + 5) {
      throw malformed(
        source,
        line,
        `byte count says ${count} data bytes but the record carries ${bytes.length - 5}`,
      );
    }
    const sum = bytes.reduce((a, b) => a + b, 0) & 0xff;
    if (sum !== 0) {
      const expected = (bytes[bytes.length - 1]! - sum) & 0xff;
      throw malformed(
        source,
        line,
        `checksum 0x${hex2(bytes[bytes.length - 1]!)} is wrong, expected 0x${hex2(expected)}`,
      );
    }
    const type = bytes[3]!;
    const offset = (bytes[1]! << 8) | bytes[2]!;
    if (type >= RECORD_LENGTHS.length)
      throw malformed(source, line, `unknown record type 0x${hex2(type)} (00–05 are defined)`);
    const wanted = RECORD_LENGTHS[type];
    if (wanted !== undefined && count !== wanted)
      throw malformed(
        source,
        line,
        `record type 0x${hex2(type)} must carry ${wanted} data bytes, not ${count}`,
      );
    if (type !== 0 && offset !== 0)
      throw malformed(source, line, `record type 0x${hex2(type)} must have address field 0000`);
    if (type === 1) eofLine = line;
    records.push({ line, text: trimmed, type, offset, data: bytes.subarray(4, 4 + count) });
  });
  if (eofLine === undefined) {
    const last = records[records.length - 1]?.line ?? lines.length;
    throw malformed(source, last, "no end-of-file record (:00000001FF) at the end of the file");
  }
  return records;
}

/**
 * Address rules nrf-intel-hex would get wrong or report without a line: bases at or above 0x80000000,
 * records running past their 64 KiB window, and records that write the same bytes.
 */
function checkAddresses(records: readonly CheckedRecord[], source: string): void {
  let base = 0;
  const spans: { start: number; end: number; line: number }[] = [];
  for (const r of records) {
    const value = r.data.length >= 2 ? (r.data[0]! << 8) | r.data[1]! : 0;
    if (r.type === 2) base = value * 16;
    if (r.type === 4) {
      base = value * 0x10000;
      // nrf-intel-hex computes this base with a signed 32-bit shift; no STM32 memory lives up there.
      if (base >= 0x80000000) {
        throw malformed(
          source,
          r.line,
          `extended linear address ${addr(base)}: addresses at or above 0x80000000 are not supported`,
        );
      }
    }
    if (r.type !== 0 || r.data.length === 0) continue;
    if (r.offset + r.data.length > 0x10000) {
      throw malformed(
        source,
        r.line,
        `data at offset 0x${r.offset.toString(16)} runs past the 64 KiB window of its base address`,
      );
    }
    spans.push({ start: base + r.offset, end: base + r.offset + r.data.length, line: r.line });
  }
  spans.sort((a, b) => a.start - b.start || a.line - b.line);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1]!, spans[i]!];
    if (b.start < a.end) {
      const [first, second] = a.line < b.line ? [a, b] : [b, a];
      throw new ImageError(
        "overlap",
        `${source} line ${second.line}: data ${addr(second.start)}–${addr(second.end)} overlaps line ${first.line} (${addr(first.start)}–${addr(first.end)})`,
        { source, line: second.line, otherLine: first.line, address: b.start },
      );
    }
  }
}

/** nrf-intel-hex reports "record N" or an address; give the line instead. */
function translateLibraryError(cause: unknown, kept: readonly CheckedRecord[], source: string): ImageError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const recordNumber = /record (\d+)/.exec(message)?.[1];
  const line = recordNumber ? kept[Number(recordNumber) - 1]?.line : undefined;
  const where = line !== undefined ? `${source} line ${line}` : source;
  if (/Duplicated|Overlapping/i.test(message)) {
    return new ImageError(
      "overlap",
      `${where}: data records overlap (${message})`,
      { source, line },
      { cause },
    );
  }
  return new ImageError("malformed-hex", `${where}: ${message}`, { source, line }, { cause });
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}
