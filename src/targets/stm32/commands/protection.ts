/**
 * Write Protect (0x63), Write Unprotect (0x73), Readout Protect (0x82) and Readout Unprotect (0x92).
 * All four end with a device reset (option-byte reload, §1.4): after the final ACK the link polls the
 * bootloader back with 0x7F before the next command can run.
 * AN3155 §3.9–3.12; docs/protocol.md §2.3.9–2.3.12.
 */
import { eraseUnits, unitEraseMs, type DeviceInfo } from "../device.js";
import { BootloaderError } from "../errors.js";
import { checksummed } from "../link-frames.js";
import type { LinkIo } from "../link.js";
import { deviceWorstCase } from "../link-timeouts.js";
import { Opcode } from "./codes.js";

/** How long an option-byte reload reset takes before the bootloader listens again (ms). */
const RESET_PAUSE_MS = 100;
/** Allowance for the reset itself on top of the operation's worst case (ms). */
const RESET_BUDGET_MS = 2_000;

/** `N, sectors…, XOR` with N = sectors − 1 (one byte each, at most 256). */
export function encodeWriteProtect(sectors: readonly number[]): Uint8Array {
  if (sectors.length === 0 || sectors.length > 256) {
    throw new BootloaderError(
      "invalid-argument",
      `Write Protect: ${sectors.length} sectors, expected 1..256`,
      { count: sectors.length },
    );
  }
  const bad = sectors.find((s) => !Number.isInteger(s) || s < 0 || s > 0xff);
  if (bad !== undefined)
    throw new BootloaderError("invalid-argument", `Write Protect: sector ${bad} is outside 0..255`, {
      sector: bad,
    });
  return checksummed(Uint8Array.of(sectors.length - 1, ...sectors));
}

/** Typical time to erase the whole flash (the pause before polling after Readout Unprotect). */
function typicalEraseAllMs(device: DeviceInfo | undefined): number {
  if (!device) return 1_000;
  if (device.massErase) return device.timing.massEraseMs.typ;
  return eraseUnits(device).reduce((ms, u) => ms + unitEraseMs(device, u.size, "typ"), 0);
}

async function optionByteCommand(io: LinkIo, opcode: number, command: string): Promise<void> {
  await io.command(opcode, { command, phase: "command" });
  await io.readAck({ command, phase: "completion" }, io.timeout(1, deviceWorstCase.optionBytes()));
  await io.reactivateAfterReset(
    RESET_PAUSE_MS,
    io.timeout(0, deviceWorstCase.optionBytes()) + RESET_BUDGET_MS,
  );
}

/** Write-protects the listed sectors (replacing any earlier protection), then the device resets. */
export async function writeProtect(io: LinkIo, sectors: readonly number[]): Promise<void> {
  const frame = encodeWriteProtect(sectors);
  const command = "Write Protect";
  await io.command(Opcode.writeProtect, { command, phase: "command" });
  await io.sendForAck(
    frame,
    { command, phase: `${sectors.length} sector(s)` },
    io.timeout(frame.length + 1, deviceWorstCase.optionBytes()),
  );
  await io.reactivateAfterReset(
    RESET_PAUSE_MS,
    io.timeout(0, deviceWorstCase.optionBytes()) + RESET_BUDGET_MS,
  );
}

/** Removes write protection from the whole flash, then the device resets. */
export function writeUnprotect(io: LinkIo): Promise<void> {
  return optionByteCommand(io, Opcode.writeUnprotect, "Write Unprotect");
}

/** Sets readout protection level 1, then the device resets. */
export function readoutProtect(io: LinkIo): Promise<void> {
  return optionByteCommand(io, Opcode.readoutProtect, "Readout Protect");
}

/**
 * Lifts readout protection: the device mass-erases the flash, clears RDP and resets. The second ACK may
 * come before the erase (ST's OpenBootloader) or after it, so both waits are sized for a full erase.
 */
export async function readoutUnprotect(io: LinkIo): Promise<void> {
  const command = "Readout Unprotect";
  const eraseMs = deviceWorstCase.eraseAll(io.device);
  await io.command(Opcode.readoutUnprotect, { command, phase: "command" });
  await io.readAck({ command, phase: "completion" }, io.timeout(1, eraseMs));
  await io.reactivateAfterReset(typicalEraseAllMs(io.device), io.timeout(0, eraseMs) + RESET_BUDGET_MS);
}
