/**
 * Byte-level framing of the ROM bootloader protocols (AN3155 USART, AN4221 I2C), as pure functions:
 * status bytes, checksums and the frame shapes every command is built from.
 * Reference: docs/protocol.md §1.1–§1.2.
 */

export const ACK = 0x79;
export const NACK = 0x1f;
/** I2C no-stretch commands answer BUSY until the flash operation ends (AN4221). */
export const BUSY = 0x76;
/** USART auto-baud / activation byte (AN3155 §2.1). */
export const ACTIVATE = 0x7f;

/** XOR of `bytes`, starting from `initial`. */
export function xor(bytes: Uint8Array, initial = 0, start = 0, end = bytes.length): number {
  let x = initial;
  for (let i = start; i < end; i++) x ^= bytes[i]!;
  return x;
}

/** `cmd, ~cmd`: every command starts with its opcode and the opcode's complement. */
export function commandFrame(code: number): Uint8Array {
  return Uint8Array.of(code, code ^ 0xff);
}

/**
 * A single byte and its complement (Read Memory's byte count): the single-byte "checksum" is the XOR
 * started from 0xFF (§1.2).
 */
export function byteFrame(value: number): Uint8Array {
  return Uint8Array.of(value, value ^ 0xff);
}

/** Four address bytes, MSB first, then their XOR (§1.2). */
export function addressFrame(address: number): Uint8Array {
  const frame = new Uint8Array(5);
  writeU32(frame, 0, address);
  frame[4] = xor(frame, 0, 0, 4);
  return frame;
}

/**
 * A multi-byte frame: `payload` followed by the XOR of all its bytes. Built into one buffer so the link
 * writes each frame with a single call.
 */
export function checksummed(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(payload.length + 1);
  frame.set(payload);
  frame[payload.length] = xor(payload);
  return frame;
}

/** Big-endian 32-bit write into `target` at `offset`. */
export function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = (value >>> 24) & 0xff;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

/** Big-endian 32-bit read. */
export function readU32(source: Uint8Array, offset = 0): number {
  return (
    ((source[offset]! << 24) |
      (source[offset + 1]! << 16) |
      (source[offset + 2]! << 8) |
      source[offset + 3]!) >>>
    0
  );
}

/** "0x79"-style byte formatting for messages. */
export function byteName(value: number): string {
  if (value === ACK) return "ACK (0x79)";
  if (value === NACK) return "NACK (0x1F)";
  if (value === BUSY) return "BUSY (0x76)";
  return `0x${value.toString(16).toUpperCase().padStart(2, "0")}`;
}
