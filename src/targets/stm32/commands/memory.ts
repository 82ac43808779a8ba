/**
 * Read Memory (0x11), Write Memory (0x31) and Go (0x21): at most 256 bytes per command.
 * AN3155 §3.4–3.6; docs/protocol.md §2.3.4–2.3.6, §1.3 (RDP).
 */
import { BootloaderError } from "../errors.js";
import { addressFrame, byteFrame, xor } from "../link-frames.js";
import type { LinkIo } from "../link.js";
import { deviceWorstCase } from "../link-timeouts.js";
import { Opcode } from "./codes.js";

/** Largest Read/Write Memory transfer (the count byte is N−1 encoded). */
export const MAX_TRANSFER = 256;

function checkLength(command: string, length: number, address: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_TRANSFER) {
    throw new BootloaderError(
      "invalid-argument",
      `${command} at 0x${address.toString(16)}: length ${length} is outside 1..256`,
      {
        command,
        address,
        length,
      },
    );
  }
}

function checkAddress(command: string, address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new BootloaderError("invalid-argument", `${command}: address ${address} is not a 32-bit address`, {
      command,
      address,
    });
  }
}

/** `N, data…, XOR(N, data…)`: the Write Memory data frame, built into one buffer. */
export function encodeWriteData(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(data.length + 2);
  frame[0] = data.length - 1;
  frame.set(data, 1);
  frame[data.length + 1] = xor(frame, 0, 0, data.length + 1);
  return frame;
}

/**
 * Reads `length` (1..256) bytes at `address`. A NACK right after the command frame means readout
 * protection (RDP level 1, §1.3): reported as "readout-protected", not as a plain NACK.
 */
export async function readMemory(io: LinkIo, address: number, length: number): Promise<Uint8Array> {
  checkAddress("Read Memory", address);
  checkLength("Read Memory", length, address);
  const command = "Read Memory";
  try {
    await io.command(Opcode.readMemory, { command, phase: "command", address });
  } catch (error) {
    if (error instanceof BootloaderError && error.code === "nack") {
      throw new BootloaderError(
        "readout-protected",
        `${io.port}: the device refuses Read Memory: readout protection (RDP level 1) is active; ` +
          "lifting it (subflash unprotect --readout) mass-erases the flash",
        { port: io.port, command, address },
        { cause: error },
      );
    }
    throw error;
  }
  await io.sendForAck(addressFrame(address), { command, phase: "address", address }, io.timeout(6));
  await io.sendForAck(byteFrame(length - 1), { command, phase: "count", address }, io.timeout(3));
  return io.read(length, { command, phase: "data", address }, io.timeout(length));
}

/** Writes 1..256 bytes at `address`; the final ACK comes after programming. */
export async function writeMemory(io: LinkIo, address: number, data: Uint8Array): Promise<void> {
  checkAddress("Write Memory", address);
  checkLength("Write Memory", data.length, address);
  const command = "Write Memory";
  await io.command(Opcode.writeMemory, { command, phase: "command", address });
  await io.sendForAck(addressFrame(address), { command, phase: "address", address }, io.timeout(6));
  const frame = encodeWriteData(data);
  const deviceMs = deviceWorstCase.program(io.device, data.length);
  await io.sendForAck(frame, { command, phase: "data", address }, io.timeout(frame.length + 1, deviceMs));
}

/** Jumps to the code whose vector table is at `address`; the bootloader is gone afterwards. */
export async function go(io: LinkIo, address: number): Promise<void> {
  checkAddress("Go", address);
  await io.command(Opcode.go, { command: "Go", phase: "command", address });
  await io.sendForAck(addressFrame(address), { command: "Go", phase: "address", address }, io.timeout(6));
}
