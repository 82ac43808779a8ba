/**
 * The STM32 hardware CRC-32 as the ROM's Get Checksum (0xA1) computes it (protocol reference §2.3.14):
 * polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final XOR, fed one 32-bit
 * little-endian word at a time, most significant bit first.
 */

const POLY = 0x04c11db7;

/** Byte-at-a-time table for the MSB-first (non-reflected) CRC. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ POLY : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/**
 * CRC of `data` (length a multiple of 4). Each word b0 b1 b2 b3 is the value b0 | b1<<8 | b2<<16 |
 * b3<<24 and enters MSB first, i.e. the bytes go in the order b3, b2, b1, b0.
 */
export function stm32Crc(data: Uint8Array, initial = 0xffffffff): number {
  if (data.length % 4 !== 0)
    throw new RangeError(`stm32Crc: length must be a multiple of 4, got ${data.length}`);
  let crc = initial >>> 0;
  for (let i = 0; i < data.length; i += 4) {
    for (let j = 3; j >= 0; j--) {
      crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ data[i + j]!) & 0xff]!) >>> 0;
    }
  }
  return crc;
}
