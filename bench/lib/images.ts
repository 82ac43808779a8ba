/**
 * The two 64 KiB test images of the flash benchmark, reproducible from a seed:
 * - "random": 64 KiB of pseudo-random bytes (no 0xFF run long enough to skip);
 * - "gapped": firmware-like: a vector table, code and data in random bytes, and 0xFF-filled gaps
 *   (alignment padding, unused pages) making up a quarter of the image, some aligned to 256-byte
 *   blocks and some not (a block holding any non-0xFF byte must still be written).
 */

export const IMAGE_BYTES = 64 * 1024;

/** The 0xFF gaps of the gapped image: [offset, length]. They add up to 16 KiB (25 %). */
export const GAPS: ReadonlyArray<readonly [number, number]> = [
  [0x2a80, 0x0580], // padding after .text, ends on a block boundary
  [0x5000, 0x2000], // four unused 2 KiB pages
  [0x8340, 0x0cc0], // padding before a 4 KiB-aligned table
  [0xa000, 0x0400],
  [0xc100, 0x0800],
  [0xe020, 0x01c0], // shorter than a block: costs nothing to skip, nothing to keep
];

/** mulberry32: a small seeded PRNG, so every run of the benchmark flashes the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomBytes(length: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const v = next();
    out[i] = v & 0xff;
    out[i + 1] = (v >>> 8) & 0xff;
    out[i + 2] = (v >>> 16) & 0xff;
    out[i + 3] = v >>> 24;
  }
  return out;
}

export function randomImage(seed = 1): Uint8Array {
  return randomBytes(IMAGE_BYTES, seed);
}

export function gappedImage(seed = 2): Uint8Array {
  const image = randomBytes(IMAGE_BYTES, seed);
  // Cortex-M vector table: initial SP in SRAM, reset handler (Thumb bit set) in flash.
  new DataView(image.buffer).setUint32(0, 0x2000_9000, true);
  new DataView(image.buffer).setUint32(4, 0x0800_00c1, true);
  for (const [offset, length] of GAPS) image.fill(0xff, offset, offset + length);
  return image;
}

/** Share of 0xFF bytes and of 256-byte blocks that are entirely 0xFF (and so need no Write Memory). */
export function blankShare(image: Uint8Array): { bytes: number; blocks: number } {
  let ff = 0;
  for (const b of image) if (b === 0xff) ff++;
  let blank = 0;
  for (let i = 0; i < image.length; i += 256)
    if (image.subarray(i, i + 256).every((b) => b === 0xff)) blank++;
  return { bytes: ff / image.length, blocks: blank / Math.ceil(image.length / 256) };
}
