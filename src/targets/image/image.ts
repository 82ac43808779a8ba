/**
 * A firmware image as the flasher sees it: one or more contiguous segments at absolute addresses,
 * whatever file format it came from. Gaps between segments are not part of the image (they are
 * neither erased on purpose nor written).
 */
export interface ImageSegment {
  /** Absolute load address (for ELF: the physical/load address, not the run address). */
  address: number;
  data: Uint8Array;
}

export type ImageFormat = "bin" | "hex" | "elf";

export interface FirmwareImage {
  format: ImageFormat;
  /** Where it came from (file path or a label), for messages. */
  source: string;
  /** Sorted by address, non-overlapping, non-empty. */
  segments: readonly ImageSegment[];
}

/** Lowest address the image touches. */
export function imageStart(image: FirmwareImage): number {
  return image.segments[0]?.address ?? 0;
}

/** One past the highest address the image touches. */
export function imageEnd(image: FirmwareImage): number {
  const last = image.segments[image.segments.length - 1];
  return last ? last.address + last.data.length : 0;
}

/** Total bytes carried by the segments (gaps excluded). */
export function imageSize(image: FirmwareImage): number {
  return image.segments.reduce((n, s) => n + s.data.length, 0);
}
