/**
 * Differential flashing: for each erase unit the image covers, decide whether the module already
 * holds exactly what a full flash would leave there — the image bytes, and 0xFF in the rest of the
 * unit (a full flash erases whole units) — and erase and write only the units that differ.
 *
 * Evidence per unit, in order of trust:
 * 1. Get Checksum (0xA1, AN3155 §3.16, bootloader v3.3+) compared with the STM32 CRC of the expected
 *    bytes: the device itself says what it holds, for ~20 bytes and three turnarounds on the wire.
 *    A run of adjacent units is asked in one exchange; a run that differs is halved, the first half
 *    asked and the second half's CRC derived from the two answers (the CRC is linear:
 *    stm32CrcOfSuffix), down to single units. An identical re-flash costs one exchange per contiguous
 *    run, a release that changes one unit of n about 1 + log2(n), one that changes every unit n
 *    (asking every unit would cost n + 1). Turnarounds, not bytes, dominate a check's cost.
 * 2. Content the caller knows the module holds (`known`), only when the device cannot be asked (no
 *    0xA1) and the caller allows it (`trustKnownContent`): never skip on belief where the device can
 *    be asked cheaply.
 * 3. Otherwise the unit is rewritten.
 * The final verification still covers the whole image, so a lying checksum or stale records are caught.
 */
import { stm32Crc, stm32CrcOfSuffix } from "../../util/digest.js";
import { addr } from "../../util/logger.js";
import type { FirmwareImage } from "../image/image.js";
import { eraseUnits, type DeviceInfo, type EraseUnit } from "./device.js";
import type { KnownContent, UnitEvidence } from "./flash-types.js";
import type { FlashPlan, FlashRange, WriteBlock } from "./flasher-plan.js";
import { withRetry, type RetryContext } from "./flasher-retry.js";

export interface UnitDecision {
  unit: EraseUnit;
  /** True when the module already holds the unit's new content. */
  same: boolean;
  by: UnitEvidence;
}

const overlaps = (u: EraseUnit, address: number, length: number): boolean =>
  u.start < address + length && u.start + u.size > address;

/** The erase units the plan's ranges touch, in address order. */
export function coveredUnits(device: DeviceInfo, plan: FlashPlan): EraseUnit[] {
  return eraseUnits(device).filter((u) => plan.ranges.some((r) => overlaps(u, r.address, r.data.length)));
}

/** What a full flash leaves in `unit`: the plan's bytes where it has them, 0xFF (erased) elsewhere. */
export function expectedUnit(unit: EraseUnit, ranges: readonly FlashRange[]): Uint8Array {
  const out = new Uint8Array(unit.size).fill(0xff);
  for (const r of ranges) {
    const from = Math.max(unit.start, r.address);
    const to = Math.min(unit.start + unit.size, r.address + r.data.length);
    if (from < to) out.set(r.data.subarray(from - r.address, to - r.address), from - unit.start);
  }
  return out;
}

/**
 * Does the known content hold exactly `expected` in `unit`? Undefined when it does not cover every
 * byte of the unit (no evidence either way).
 */
export function knownMatches(
  unit: EraseUnit,
  expected: Uint8Array,
  known: readonly KnownContent[],
): boolean | undefined {
  const seen = new Uint8Array(unit.size);
  const end = unit.start + unit.size;
  for (const k of known) {
    const kEnd = k.address + k.data.length;
    const from = Math.max(unit.start, k.address);
    const to = Math.min(end, kEnd);
    for (let a = from; a < to; a++) {
      if (k.data[a - k.address] !== expected[a - unit.start]) return false;
      seen[a - unit.start] = 1;
    }
    // The rest of the unit where the known data ends was erased with it.
    if (k.tailErased && kEnd > unit.start && kEnd < end) {
      for (let a = kEnd; a < end; a++) {
        if (expected[a - unit.start] !== 0xff) return false;
        seen[a - unit.start] = 1;
      }
    }
  }
  return seen.every((b) => b === 1) ? true : undefined;
}

/** Groups units into runs of adjacent units. */
function runsOf(units: readonly EraseUnit[]): EraseUnit[][] {
  const runs: EraseUnit[][] = [];
  for (const u of units) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (run && last && last.start + last.size === u.start) run.push(u);
    else runs.push([u]);
  }
  return runs;
}

export interface DecideOptions {
  /** The device offers Get Checksum. */
  askDevice: boolean;
  known: readonly KnownContent[];
  trustKnown: boolean;
  /** Called after each unit is decided (units done, units total). */
  progress: (done: number, total: number) => void;
}

/** Decides every covered unit; returns the decisions and the Get Checksum exchanges spent. */
export async function decideUnits(
  ctx: RetryContext,
  units: readonly EraseUnit[],
  ranges: readonly FlashRange[],
  options: DecideOptions,
): Promise<{ decisions: UnitDecision[]; checks: number }> {
  const decisions: UnitDecision[] = [];
  let checks = 0;
  const checksum = async (start: number, length: number): Promise<number> => {
    checks++;
    return withRetry(ctx, `checksum at ${addr(start)}`, () => ctx.bootloader.getChecksum(start, length));
  };
  for (const run of runsOf(units)) {
    if (!options.askDevice) {
      for (const unit of run) {
        const expected = expectedUnit(unit, ranges);
        const same = options.trustKnown ? knownMatches(unit, expected, options.known) : undefined;
        decisions.push({ unit, same: same === true, by: same === undefined ? "none" : "known" });
      }
      options.progress(decisions.length, units.length);
      continue;
    }
    // The run's expected bytes in one piece (its units are adjacent), so any sub-run is a view.
    const first = run[0]!;
    const offsets = [0];
    for (const u of run) offsets.push(offsets[offsets.length - 1]! + u.size);
    const at = (i: number): number => offsets[i]!;
    const whole = new Uint8Array(at(run.length));
    run.forEach((u, i) => whole.set(expectedUnit(u, ranges), at(i)));
    /** Units lo..hi-1 of the run, whose device CRC is `device`: decide them, in address order. */
    const settle = async (lo: number, hi: number, device: number): Promise<void> => {
      const same = device === stm32Crc(whole.subarray(at(lo), at(hi)));
      if (same || hi - lo === 1) {
        for (let i = lo; i < hi; i++) decisions.push({ unit: run[i]!, same, by: "checksum" });
        options.progress(decisions.length, units.length);
        return;
      }
      const mid = (lo + hi) >>> 1;
      const left = await checksum(first.start + at(lo), at(mid) - at(lo));
      const right = stm32CrcOfSuffix(device, left, at(hi) - at(mid));
      await settle(lo, mid, left);
      await settle(mid, hi, right);
    };
    await settle(0, run.length, await checksum(first.start, whole.length));
  }
  return { decisions, checks };
}

/**
 * The image restricted to `units` (the plan's ranges clipped at unit boundaries, which are
 * flash-word aligned): planning it erases exactly those units and writes only their blocks.
 */
export function restrictTo(
  image: FirmwareImage,
  plan: FlashPlan,
  units: readonly EraseUnit[],
): FirmwareImage {
  const segments: { address: number; data: Uint8Array }[] = [];
  for (const u of units) {
    for (const r of plan.ranges) {
      const from = Math.max(u.start, r.address);
      const to = Math.min(u.start + u.size, r.address + r.data.length);
      if (from < to)
        segments.push({ address: from, data: r.data.subarray(from - r.address, to - r.address) });
    }
  }
  return { format: image.format, source: image.source, segments };
}

/** How many of `units` the blocks touch. */
export function unitsTouched(units: readonly EraseUnit[], blocks: readonly WriteBlock[]): number {
  return units.filter((u) => blocks.some((b) => overlaps(u, b.address, b.data.length))).length;
}
