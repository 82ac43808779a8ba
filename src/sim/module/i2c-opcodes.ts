/**
 * What the simulated I2C bootloader (AN4221) offers per protocol version (docs/protocol.md §3.5):
 * v1.0 the clock-stretching set, v1.1 adds the No-Stretch variants, v1.2 adds Get Checksum 0xA1 and
 * answers i2cdetect-style probes.
 */

/** No-Stretch opcode → the plain opcode whose handler it shares (only the final status differs). */
export const NO_STRETCH_OF: ReadonlyMap<number, number> = new Map([
  [0x32, 0x31], // Write Memory
  [0x45, 0x44], // Extended Erase
  [0x64, 0x63], // Write Protect
  [0x74, 0x73], // Write Unprotect
  [0x83, 0x82], // Readout Protect
  [0x93, 0x92], // Readout Unprotect
]);

export function isNoStretchOp(op: number): boolean {
  return NO_STRETCH_OF.has(op);
}

/** I2C protocol versions the simulator models. */
export const I2C_VERSIONS: readonly number[] = [0x10, 0x11, 0x12];

/** The default I2C protocol version when the device table gives none. */
export const DEFAULT_I2C_VERSION = 0x12;

/** The Get list of an I2C ROM of this protocol version (§3.5 table). */
export function defaultI2cCommands(version: number): number[] {
  const list = [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92];
  if (version >= 0x11) list.push(0x32, 0x45, 0x64, 0x74, 0x83, 0x93);
  if (version >= 0x12) list.push(0xa1);
  return list;
}

/** v1.2 ROMs acknowledge and complete a read nobody asked for (i2cdetect probes); older ones stretch SCL. */
export function answersProbes(version: number): boolean {
  return version >= 0x12;
}
