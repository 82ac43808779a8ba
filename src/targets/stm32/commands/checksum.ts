/**
 * Get Checksum (0xA1, USART protocol v3.3 / I2C v1.2): the device computes the STM32 hardware CRC-32
 * over a flash range, so a whole image is verified in one exchange instead of reading it back.
 * docs/protocol.md §2.3.14 (sequence as stm32flash implements it).
 */
import { BootloaderError } from "../errors.js";
import { addressFrame, readU32, xor } from "../link-frames.js";
import type { LinkIo } from "../link.js";
import { deviceWorstCase } from "../link-timeouts.js";
import { Opcode } from "./codes.js";

/** Decodes `crc(4, MSB first), XOR(crc bytes)`. */
export function decodeChecksum(bytes: Uint8Array): number | undefined {
  return xor(bytes, 0, 0, 4) === bytes[4] ? readU32(bytes) : undefined;
}

/** CRC of `length` bytes at `address`; both must be multiples of 4. */
export async function getChecksum(io: LinkIo, address: number, length: number): Promise<number> {
  const command = "Get Checksum";
  if (address % 4 !== 0 || length % 4 !== 0 || length <= 0 || address + length > 0x1_0000_0000) {
    throw new BootloaderError(
      "invalid-argument",
      `${command}: address 0x${address.toString(16)} and length ${length} must be positive multiples of 4`,
      { command, address, length },
    );
  }
  await io.command(Opcode.getChecksum, { command, phase: "command", address });
  await io.sendForAck(addressFrame(address), { command, phase: "address", address }, io.timeout(6));
  // The length frame has the same shape as an address frame: 4 bytes MSB first and their XOR.
  await io.sendForAck(addressFrame(length), { command, phase: "length", address }, io.timeout(6));
  await io.readAck(
    { command, phase: "computation", address },
    io.timeout(1, deviceWorstCase.checksum(length)),
  );
  const reply = await io.read(5, { command, phase: "result", address }, io.timeout(5));
  const crc = decodeChecksum(reply);
  if (crc === undefined) {
    throw new BootloaderError(
      "bad-reply",
      `${io.port}: ${command} at 0x${address.toString(16)}: checksum byte of the CRC does not match`,
      {
        port: io.port,
        command,
        address,
      },
    );
  }
  return crc;
}
