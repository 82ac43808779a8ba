/**
 * Digests of firmware images: SHA-256 (integrity and identity), CRC-32 (the usual file checksum)
 * and the STM32 hardware CRC, which is what the ROM bootloader's Get Checksum command (0xA1) returns
 * for a flash range, so the gateway can check a module's flash without reading it back.
 */
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";

/** SHA-256 of the bytes (32 bytes). */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** CRC-32 as in zlib, PNG and Ethernet (ISO-HDLC: reflected 0xEDB88320, init and final xor 0xFFFFFFFF). */
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0;
}

const STM32_CRC_POLY = 0x04c11db7;

/**
 * Four tables for slicing-by-4 over the non-reflected polynomial. TABLES[0] is the classic
 * byte table; TABLES[k][i] is TABLES[0][i] pushed through k more zero bytes, so one 32-bit word
 * costs four look-ups instead of 32 shifts.
 */
const TABLES = ((): readonly [Uint32Array, Uint32Array, Uint32Array, Uint32Array] => {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ STM32_CRC_POLY : c << 1;
    t0[i] = c >>> 0;
  }
  const next = (prev: Uint32Array): Uint32Array => prev.map((v) => ((v << 8) ^ t0[v >>> 24]!) >>> 0);
  const t1 = next(t0);
  const t2 = next(t1);
  return [t0, t1, t2, next(t2)];
})();

/**
 * The STM32 CRC unit's CRC-32 of an image, as the bootloader's Get Checksum (0xA1) computes it
 * over flash (protocol doc §2.3.14): polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no
 * reflection, no final xor, over 32-bit little-endian words (bytes b0 b1 b2 b3 form
 * b0 | b1<<8 | b2<<16 | b3<<24) fed most significant bit first.
 *
 * The device only checksums whole words, so a length that is not a multiple of 4 is padded with
 * 0xFF, which is what erased flash after the image holds and what the flasher asks the device for.
 */
export function stm32Crc(bytes: Uint8Array): number {
  const [t0, t1, t2, t3] = TABLES;
  const whole = bytes.length & ~3;
  let crc = 0xffffffff;
  for (let i = 0; i < whole; i += 4) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc = t3[crc >>> 24]! ^ t2[(crc >>> 16) & 0xff]! ^ t1[(crc >>> 8) & 0xff]! ^ t0[crc & 0xff]!;
  }
  if (whole < bytes.length) {
    const tail = new Uint8Array(4).fill(0xff);
    tail.set(bytes.subarray(whole));
    crc ^= tail[0]! | (tail[1]! << 8) | (tail[2]! << 16) | (tail[3]! << 24);
    crc = t3[crc >>> 24]! ^ t2[(crc >>> 16) & 0xff]! ^ t1[(crc >>> 8) & 0xff]! ^ t0[crc & 0xff]!;
  }
  return crc >>> 0;
}

/**
 * The STM32 CRC of B, from the CRCs of A‖B and of A and B's length in bytes (a multiple of 4): what
 * the device would answer for B, without asking it. The CRC is linear over GF(2): fed zero words
 * from register r, it ends at Z_n(r), and for any words W, crc_from(r, W) = Z_n(r) ⊕ crc_from(0, W).
 * So crc(A‖B) = Z_n(crc(A)) ⊕ crc_from(0, B) and crc(B) = Z_n(0xFFFFFFFF) ⊕ crc_from(0, B), which
 * gives crc(B) = crc(A‖B) ⊕ Z_n(crc(A) ⊕ 0xFFFFFFFF). Z_n is n table steps of a zero word.
 */
export function stm32CrcOfSuffix(crcWhole: number, crcPrefix: number, suffixBytes: number): number {
  if (suffixBytes % 4 !== 0) throw new RangeError(`suffix length ${suffixBytes} is not a multiple of 4`);
  const [t0, t1, t2, t3] = TABLES;
  let r = (crcPrefix ^ 0xffffffff) >>> 0;
  for (let words = suffixBytes / 4; words > 0 && r !== 0; words--)
    r = t3[r >>> 24]! ^ t2[(r >>> 16) & 0xff]! ^ t1[(r >>> 8) & 0xff]! ^ t0[r & 0xff]!;
  return (crcWhole ^ r) >>> 0;
}
