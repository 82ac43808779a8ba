/**
 * Opcodes of the ROM bootloader commands and their names (AN3155 §3, AN4221; table in
 * docs/protocol.md §1.5). The set a device offers is always taken from its
 * Get reply, never inferred from the protocol version.
 */

export const Opcode = {
  get: 0x00,
  getVersion: 0x01,
  getId: 0x02,
  readMemory: 0x11,
  go: 0x21,
  writeMemory: 0x31,
  noStretchWriteMemory: 0x32,
  erase: 0x43,
  extendedErase: 0x44,
  noStretchExtendedErase: 0x45,
  special: 0x50,
  extendedSpecial: 0x51,
  writeProtect: 0x63,
  noStretchWriteProtect: 0x64,
  writeUnprotect: 0x73,
  noStretchWriteUnprotect: 0x74,
  readoutProtect: 0x82,
  noStretchReadoutProtect: 0x83,
  readoutUnprotect: 0x92,
  noStretchReadoutUnprotect: 0x93,
  getChecksum: 0xa1,
} as const;

export type OpcodeName = keyof typeof Opcode;

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, "Get"],
  [0x01, "Get Version"],
  [0x02, "Get ID"],
  [0x03, "Speed"],
  [0x11, "Read Memory"],
  [0x21, "Go"],
  [0x31, "Write Memory"],
  [0x32, "No-Stretch Write Memory"],
  [0x43, "Erase"],
  [0x44, "Extended Erase"],
  [0x45, "No-Stretch Extended Erase"],
  [0x50, "Special"],
  [0x51, "Extended Special"],
  [0x63, "Write Protect"],
  [0x64, "No-Stretch Write Protect"],
  [0x73, "Write Unprotect"],
  [0x74, "No-Stretch Write Unprotect"],
  [0x82, "Readout Protect"],
  [0x83, "No-Stretch Readout Protect"],
  [0x92, "Readout Unprotect"],
  [0x93, "No-Stretch Readout Unprotect"],
  [0xa1, "Get Checksum"],
]);

/** "Write Memory (0x31)"; unknown codes as "command 0xNN". */
export function commandName(code: number): string {
  const hexCode = `0x${code.toString(16).toUpperCase().padStart(2, "0")}`;
  const name = NAMES.get(code);
  return name ? `${name} (${hexCode})` : `command ${hexCode}`;
}

/** The commands after whose final ACK the device resets (option-byte reload, §1.4). */
export const RESETTING: ReadonlySet<number> = new Set([0x63, 0x64, 0x73, 0x74, 0x82, 0x83, 0x92, 0x93]);

/** "3.1" from 0x31. */
export function versionString(version: number): string {
  return `${version >> 4}.${version & 0x0f}`;
}
