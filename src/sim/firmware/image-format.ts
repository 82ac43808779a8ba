/**
 * The simulated firmware "image format": what the simulator's application model finds at the start of
 * a slot. Real images start with a vector table; ours start with a small header saying which version
 * the application reports and how it behaves, so tests and the demo can build good and bad firmware.
 *
 *   0  u8[4]  magic "SFAP"
 *   4  u8     header version (1)
 *   5  u8     behaviour: 0 healthy, 1 crash-on-boot, 2 wrong-version, 3 silent
 *   6  u16    reserved (0xFFFF)
 *   8  u32    image length in bytes, header included (little-endian)
 *  12  u8[20] version string, ASCII, NUL-padded
 *  32  …      filler (deterministic pseudo-random bytes from the version, so images differ)
 */

export const SIM_FIRMWARE_MAGIC = Uint8Array.of(0x53, 0x46, 0x41, 0x50); // "SFAP"
export const SIM_FIRMWARE_HEADER_SIZE = 32;
const VERSION_BYTES = 20;

export const SIM_BEHAVIOURS = ["healthy", "crash-on-boot", "wrong-version", "silent"] as const;
export type SimBehaviour = (typeof SIM_BEHAVIOURS)[number];

export interface SimFirmwareHeader {
  version: string;
  behaviour: SimBehaviour;
  length: number;
}

export interface BuildSimFirmwareOptions {
  version: string;
  behaviour?: SimBehaviour;
  /** Total length in bytes (default 4 KiB); at least the header. */
  size?: number;
}

/** A firmware image for the simulated application model. */
export function buildSimFirmware(options: BuildSimFirmwareOptions): Uint8Array {
  const size = options.size ?? 4096;
  if (size < SIM_FIRMWARE_HEADER_SIZE)
    throw new RangeError(
      `a simulated firmware image needs at least ${SIM_FIRMWARE_HEADER_SIZE} bytes, got ${size}`,
    );
  const version = new TextEncoder().encode(options.version);
  if (version.length === 0 || version.length > VERSION_BYTES) {
    throw new RangeError(`version "${options.version}" must be 1..${VERSION_BYTES} ASCII bytes`);
  }
  const image = new Uint8Array(size);
  image.set(SIM_FIRMWARE_MAGIC, 0);
  image[4] = 1;
  image[5] = SIM_BEHAVIOURS.indexOf(options.behaviour ?? "healthy");
  image[6] = 0xff;
  image[7] = 0xff;
  new DataView(image.buffer).setUint32(8, size, true);
  image.set(version, 12);
  // xorshift32 seeded from the version and behaviour: reproducible filler that differs between releases.
  let state = 0x9e3779b9 ^ (image[5] << 8);
  for (const b of version) state = Math.imul(state ^ b, 0x01000193) >>> 0;
  for (let i = SIM_FIRMWARE_HEADER_SIZE; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    // Avoid 0xFF so no block of the image looks erased (the flasher would skip it, which is fine, but
    // then tests could not tell a written block from an erased one).
    image[i] = (state & 0xff) === 0xff ? 0xfe : state & 0xff;
  }
  return image;
}

/** Reads the header at the start of `bytes`; null when there is no valid simulated firmware. */
export function parseSimFirmware(bytes: Uint8Array): SimFirmwareHeader | null {
  if (bytes.length < SIM_FIRMWARE_HEADER_SIZE) return null;
  if (!SIM_FIRMWARE_MAGIC.every((b, i) => bytes[i] === b) || bytes[4] !== 1) return null;
  const behaviour = SIM_BEHAVIOURS[bytes[5]!];
  if (!behaviour) return null;
  const length = new DataView(bytes.buffer, bytes.byteOffset, SIM_FIRMWARE_HEADER_SIZE).getUint32(8, true);
  const raw = bytes.subarray(12, 12 + VERSION_BYTES);
  const end = raw.indexOf(0);
  const version = new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  if (version.length === 0) return null;
  return { version, behaviour, length };
}
