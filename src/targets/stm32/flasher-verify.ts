/**
 * Verification of written flash, two ways:
 * - crc: one Get Checksum (0xA1) per contiguous range, compared with the STM32 CRC of the expected
 *   bytes. It covers everything in the range (written blocks, skipped blank blocks, 0xFF gap fill) at
 *   flash speed on the device and a dozen bytes on the wire.
 * - readback: Read Memory of every written block, which is only the written part of a 256-byte
 *   window (the plan trims blank flash words off its edges). Blank blocks that were skipped and the
 *   trimmed edges are not read: they are covered by the erase (an erase leaves 0xFF), and reading
 *   them back would cost as much wire time as writing them.
 * A mismatch is re-read before it counts, so a reply garbled on the line is not taken for bad flash.
 */
import { stm32Crc } from "../../util/digest.js";
import { addr } from "../../util/logger.js";
import { MAX_TRANSFER } from "./commands/memory.js";
import type { FlashRange, WriteBlock } from "./flasher-plan.js";
import { withRetry, type RetryContext } from "./flasher-retry.js";

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads `length` bytes with retries. */
export function readWithRetry(ctx: RetryContext, address: number, length: number): Promise<Uint8Array> {
  return withRetry(ctx, `read at ${addr(address)}`, () => ctx.bootloader.readMemory(address, length));
}

/** The ranges whose device CRC differs from the expected bytes. */
export async function crcMismatches(
  ctx: RetryContext,
  ranges: readonly FlashRange[],
  progress: (bytes: number) => void,
): Promise<FlashRange[]> {
  const bad: FlashRange[] = [];
  let done = 0;
  for (const range of ranges) {
    const expected = stm32Crc(range.data);
    const actual = await withRetry(ctx, `checksum at ${addr(range.address)}`, () =>
      ctx.bootloader.getChecksum(range.address, range.data.length),
    );
    if (actual !== expected) {
      ctx.log.warn(
        {
          address: addr(range.address),
          length: range.data.length,
          expected: expected.toString(16),
          actual: actual.toString(16),
        },
        "checksum mismatch",
      );
      bad.push(range);
    }
    done += range.data.length;
    progress(done);
  }
  return bad;
}

/** The regions (each ≤ 256 bytes) whose flash content differs from the expected bytes. */
export async function readbackMismatches(
  ctx: RetryContext,
  regions: readonly WriteBlock[],
  progress: (bytes: number) => void,
): Promise<WriteBlock[]> {
  const bad: WriteBlock[] = [];
  let done = 0;
  for (const region of regions) {
    let matches = false;
    for (let read = 1; read <= ctx.attempts && !matches; read++) {
      matches = sameBytes(await readWithRetry(ctx, region.address, region.data.length), region.data);
      if (!matches)
        ctx.log.warn({ address: addr(region.address), read: `${read}/${ctx.attempts}` }, "read-back differs");
    }
    if (!matches) bad.push(region);
    done += region.data.length;
    progress(done);
  }
  return bad;
}

/** Splits ranges into ≤256-byte regions on 256-byte boundaries (to locate what a CRC mismatch covers). */
export function regionsOf(ranges: readonly FlashRange[]): WriteBlock[] {
  const regions: WriteBlock[] = [];
  for (const range of ranges) {
    const end = range.address + range.data.length;
    for (let at = range.address; at < end;) {
      const next = Math.min(end, at - (at % MAX_TRANSFER) + MAX_TRANSFER);
      regions.push({ address: at, data: range.data.subarray(at - range.address, next - range.address) });
      at = next;
    }
  }
  return regions;
}
