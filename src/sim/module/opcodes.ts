/** AN3155 opcodes and status bytes as the simulated ROM uses them (docs/protocol.md §1.1, §1.5). */

export const ACK = 0x79;
export const NACK = 0x1f;
export const BUSY = 0x76;
/** USART activation / auto-baud byte. */
export const SYNC = 0x7f;

export const Op = {
  get: 0x00,
  getVersion: 0x01,
  getId: 0x02,
  readMemory: 0x11,
  go: 0x21,
  writeMemory: 0x31,
  erase: 0x43,
  extendedErase: 0x44,
  writeProtect: 0x63,
  writeUnprotect: 0x73,
  readoutProtect: 0x82,
  readoutUnprotect: 0x92,
  getChecksum: 0xa1,
} as const;

/**
 * Commands refused under RDP level 1 right after the command frame (§1.3). Get Checksum is added:
 * a CRC over protected flash would leak it, and [OB] checks protection in every memory handler.
 */
export const RDP_PROTECTED: ReadonlySet<number> = new Set([
  Op.readMemory,
  Op.go,
  Op.writeMemory,
  Op.erase,
  Op.extendedErase,
  Op.writeProtect,
  Op.writeUnprotect,
  Op.readoutProtect,
  Op.getChecksum,
]);

/**
 * The Get list a ROM of this USART protocol version reports (§2.3.1, §2.4): v2.x erases with 0x43,
 * v3.0+ with 0x44, v3.3+ adds Get Checksum 0xA1.
 */
export function defaultCommands(version: number): number[] {
  const erase = version >= 0x30 ? Op.extendedErase : Op.erase;
  const list: number[] = [
    Op.get,
    Op.getVersion,
    Op.getId,
    Op.readMemory,
    Op.go,
    Op.writeMemory,
    erase,
    Op.writeProtect,
    Op.writeUnprotect,
    Op.readoutProtect,
    Op.readoutUnprotect,
  ];
  if (version >= 0x33) list.push(Op.getChecksum);
  return list;
}

export function opcodeKey(op: number): string {
  return `0x${op.toString(16).padStart(2, "0")}`;
}
