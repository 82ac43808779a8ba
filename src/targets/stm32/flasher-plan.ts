/**
 * Flash planning, as pure functions of the device table and the image: which erase units to erase
 * (exactly those the image covers; mass erase only when asked or when it is cheaper and allowed),
 * which 256-byte blocks to write (aligned to the flash word, tails padded with 0xFF, blank blocks
 * skipped, blank flash words trimmed off block edges), and the contiguous ranges the verification
 * covers. Skipping and trimming rely on the erase: every block lies in units the plan erases (gaps
 * are only filled inside erased flash), and an erased unit reads 0xFF.
 */
import type { FirmwareImage } from "../image/image.js";
import { checkImageFits } from "../image/fits.js";
import { addr } from "../../util/logger.js";
import { eraseUnits, unitEraseMs, type DeviceInfo, type EraseUnit } from "./device.js";
import { LEGACY_MAX_UNITS, eraseBatches, type EraseOpcode } from "./commands/erase.js";
import { Opcode } from "./commands/codes.js";
import { MAX_TRANSFER } from "./commands/memory.js";
import { FlashError } from "./flasher-errors.js";

export type EraseMode = "auto" | "mass";

export type ErasePlan =
  | { kind: "mass"; units: readonly EraseUnit[] }
  | { kind: "units"; units: readonly EraseUnit[]; batches: readonly (readonly number[])[] };

/** One Write Memory command. */
export interface WriteBlock {
  address: number;
  data: Uint8Array;
}

/** A contiguous span flash must hold after flashing (image bytes, 0xFF in filled gaps and word padding). */
export interface FlashRange {
  address: number;
  data: Uint8Array;
}

export interface FlashPlan {
  erase: ErasePlan;
  blocks: readonly WriteBlock[];
  /** 256-byte windows left out because they are all 0xFF (the erase already leaves them so). */
  skippedBlocks: number;
  ranges: readonly FlashRange[];
  /** Why mass erase was or was not chosen, for logs and results. */
  note?: string;
}

/** Address granule of every write: the flash word, and never less than 4 bytes (AN3155 §3.6). */
export function writeGranule(device: DeviceInfo): number {
  return Math.max(4, device.flashWord);
}

const alignDown = (value: number, granule: number): number => value - (value % granule);
const alignUp = (value: number, granule: number): number => alignDown(value + granule - 1, granule);

/** Units intersecting any of the spans, in address order. */
function unitsFor(all: readonly EraseUnit[], spans: readonly { start: number; end: number }[]): EraseUnit[] {
  return all.filter((u) => spans.some((s) => u.start < s.end && u.start + u.size > s.start));
}

/** Chooses what to erase. */
export function planErase(
  device: DeviceInfo,
  opcode: EraseOpcode,
  spans: readonly { start: number; end: number }[],
  mode: EraseMode,
): ErasePlan & { note?: string } {
  const all = eraseUnits(device);
  const covered = unitsFor(all, spans);
  const typ = (units: readonly EraseUnit[]): number =>
    units.reduce((ms, u) => ms + unitEraseMs(device, u.size), 0);
  let note: string | undefined;
  if (device.massErase) {
    if (mode === "mass") return { kind: "mass", units: all, note: "mass erase requested" };
    if (covered.length === all.length && device.timing.massEraseMs.typ <= typ(covered)) {
      return { kind: "mass", units: all, note: "the image covers every erase unit; a mass erase is quicker" };
    }
  } else if (mode === "mass") {
    // L0/L1 refuse 0xFFFF (stm32flash F_NO_ME): the whole flash is erased page by page instead.
    return unitPlan(
      device,
      opcode,
      all,
      `${device.name} has no mass erase; erasing all ${all.length} units instead`,
    );
  }
  return unitPlan(device, opcode, covered, note);
}

function unitPlan(
  device: DeviceInfo,
  opcode: EraseOpcode,
  units: EraseUnit[],
  note: string | undefined,
): ErasePlan & { note?: string } {
  const tooHigh = opcode === Opcode.erase ? units.find((u) => u.index > 0xff) : undefined;
  if (tooHigh) {
    throw new FlashError(
      "cannot-plan",
      `${device.name}: erase unit ${tooHigh.index} (${addr(tooHigh.start)}) cannot be named by the legacy Erase command 0x43, ` +
        `which numbers pages 0..255 and at most ${LEGACY_MAX_UNITS} per command; nothing was erased`,
      { device: device.name, unit: tooHigh.index },
    );
  }
  const batches = eraseBatches(
    device,
    opcode,
    units.map((u) => u.index),
  );
  return note === undefined ? { kind: "units", units, batches } : { kind: "units", units, batches, note };
}

/** True when every unit touching [start, end) is in the erase plan. */
function erased(plan: ErasePlan, start: number, end: number): boolean {
  if (plan.kind === "mass") return true;
  let at = start;
  for (const u of plan.units) {
    if (u.start + u.size <= at) continue;
    if (u.start > at) return false;
    at = u.start + u.size;
    if (at >= end) return true;
  }
  return at >= end;
}

/**
 * Plans a flash operation. Throws ImageError "out-of-range" (an image byte outside the flash, named
 * with both ranges) or FlashError "cannot-plan" before anything is sent, so a refused image leaves the
 * module untouched.
 */
export function planFlash(
  device: DeviceInfo,
  image: FirmwareImage,
  options: { opcode: EraseOpcode; erase?: EraseMode },
): FlashPlan {
  checkImageFits(image, device);
  const granule = writeGranule(device);
  const extents = image.segments.map((s) => ({
    start: alignDown(s.address, granule),
    end: alignUp(s.address + s.data.length, granule),
  }));
  const erase = planErase(device, options.opcode, extents, options.erase ?? "auto");

  // Contiguous ranges: extents that touch after word alignment merge; a gap shorter than a block is
  // filled with 0xFF when it lies in erased flash (saves a command per gap, writes nothing new).
  const spans: { start: number; end: number }[] = [];
  for (const extent of extents) {
    const last = spans[spans.length - 1];
    if (
      last &&
      (extent.start <= last.end ||
        (extent.start - last.end < MAX_TRANSFER && erased(erase, last.end, extent.start)))
    ) {
      last.end = Math.max(last.end, extent.end);
    } else {
      spans.push({ ...extent });
    }
  }
  const ranges = spans.map(({ start, end }) => {
    const data = new Uint8Array(end - start).fill(0xff);
    for (const s of image.segments) {
      if (s.address >= start && s.address < end) data.set(s.data, s.address - start);
    }
    return { address: start, data };
  });

  const blocks: WriteBlock[] = [];
  let skippedBlocks = 0;
  for (const range of ranges) {
    const end = range.address + range.data.length;
    for (let at = range.address; at < end;) {
      const next = Math.min(end, alignDown(at, MAX_TRANSFER) + MAX_TRANSFER);
      const block = trimBlank(at, range.data.subarray(at - range.address, next - range.address), granule);
      if (block) blocks.push(block);
      else skippedBlocks++;
      at = next;
    }
  }
  const plan: FlashPlan = { erase, blocks, skippedBlocks, ranges };
  if (erase.note !== undefined) plan.note = erase.note;
  return plan;
}

/**
 * Drops leading and trailing all-0xFF flash words; undefined when nothing is left. Whole words only,
 * so the Write Memory address and length stay multiples of the write granule (AN3155 §3.6).
 */
function trimBlank(address: number, data: Uint8Array, granule: number): WriteBlock | undefined {
  const blankWord = (offset: number): boolean => {
    for (let i = offset; i < offset + granule; i++) if (data[i] !== 0xff) return false;
    return true;
  };
  let from = 0;
  let to = data.length;
  while (from < to && blankWord(from)) from += granule;
  if (from === to) return undefined;
  while (blankWord(to - granule)) to -= granule;
  return { address: address + from, data: data.subarray(from, to) };
}
