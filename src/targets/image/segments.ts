/**
 * Segment bookkeeping shared by the format parsers: sort, reject overlaps, merge what touches, and
 * turn a sparse image into one buffer.
 */
import { addr } from "../../util/logger.js";
import { ImageError } from "./errors.js";
import type { FirmwareImage, ImageFormat, ImageSegment } from "./image.js";
import { imageEnd, imageStart } from "./image.js";

/** One past the last 32-bit address; segments must end at or below it. */
export const ADDRESS_SPACE_END = 0x1_0000_0000;

/** "0x08000000–0x08024000" for messages (half-open, like every range here). */
export function formatRange(start: number, end: number): string {
  return `${addr(start)}–${addr(end)}`;
}

/**
 * Builds a FirmwareImage from raw segments in any order: drops empty ones, sorts by address, rejects
 * overlaps (ImageError "overlap"), merges segments that touch, and rejects an image without bytes
 * (ImageError "empty"). `describe(i)` names input segment i in messages ("segment 2", "line 14").
 */
export function buildImage(
  format: ImageFormat,
  source: string,
  input: readonly ImageSegment[],
  describe: (index: number) => string = (i) => `segment ${i}`,
): FirmwareImage {
  const indexed = input
    .map((segment, index) => ({ segment, index }))
    .filter(({ segment }) => segment.data.length > 0)
    .sort((a, b) => a.segment.address - b.segment.address);
  if (indexed.length === 0)
    throw new ImageError("empty", `${source}: the image holds no bytes to flash`, { source, format });

  for (const { segment, index } of indexed) {
    const end = segment.address + segment.data.length;
    if (!Number.isInteger(segment.address) || segment.address < 0 || end > ADDRESS_SPACE_END) {
      throw new ImageError(
        "out-of-range",
        `${source}: ${describe(index)} at ${addr(segment.address)} (${segment.data.length} bytes) leaves the 32-bit address space`,
        {
          source,
          address: segment.address,
          length: segment.data.length,
        },
      );
    }
  }

  const merged: { address: number; parts: Uint8Array[]; end: number }[] = [];
  let previous: { index: number; end: number } | undefined;
  for (const { segment, index } of indexed) {
    const end = segment.address + segment.data.length;
    if (previous && segment.address < previous.end) {
      throw new ImageError(
        "overlap",
        `${source}: ${describe(index)} (${formatRange(segment.address, end)}) overlaps ${describe(previous.index)}, which ends at ${addr(previous.end)}`,
        { source, address: segment.address, previousEnd: previous.end },
      );
    }
    const last = merged[merged.length - 1];
    if (last && last.end === segment.address) {
      last.parts.push(segment.data);
      last.end = end;
    } else {
      merged.push({ address: segment.address, parts: [segment.data], end });
    }
    previous = { index, end };
  }

  const segments = merged.map(({ address, parts }) => ({
    address,
    data: parts.length === 1 ? parts[0]! : concat(parts),
  }));
  return { format, source, segments };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Largest span flattenImage allocates by default: beyond any STM32 flash, so only sparse files hit it. */
export const DEFAULT_FLATTEN_LIMIT = 64 * 1024 * 1024;

/**
 * The image as one contiguous buffer from its lowest to its highest address, gaps filled with `fill`
 * (0xFF: what erased flash reads as). Throws ImageError "too-large" when the span exceeds `maxBytes`
 * (a HEX file that also carries option bytes at 0x1FFF7800 would otherwise allocate 400 MiB).
 * The buffer is always new: changing it does not change the image.
 */
export function flattenImage(
  image: FirmwareImage,
  fill = 0xff,
  options: { maxBytes?: number } = {},
): { address: number; data: Uint8Array } {
  const start = imageStart(image);
  const end = imageEnd(image);
  if (image.segments.length === 0)
    throw new ImageError("empty", `${image.source}: the image holds no bytes`, { source: image.source });
  const maxBytes = options.maxBytes ?? DEFAULT_FLATTEN_LIMIT;
  if (end - start > maxBytes) {
    throw new ImageError(
      "too-large",
      `${image.source}: the image spans ${formatRange(start, end)} (${end - start} bytes), more than ${maxBytes} bytes to flatten; its segments are too far apart`,
      { source: image.source, start, end, maxBytes },
    );
  }
  const data = new Uint8Array(end - start).fill(fill);
  for (const segment of image.segments) data.set(segment.data, segment.address - start);
  return { address: start, data };
}
