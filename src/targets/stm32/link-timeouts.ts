/**
 * The one place where reply timeouts are computed. A timeout is what the exchange needs in the worst
 * case, with a margin: the wire time of the bytes at the line speed, plus the device's datasheet
 * worst case for the flash operation (device table `timing.*.max`), plus a fixed allowance for
 * USB-serial turnarounds and host scheduling.
 *
 * Why a margin on the device time: the worst-case figures in the table are for the x32 programming
 * parallelism; at low VDD the F2/F4 bootloader falls back to x8 and erases take up to twice as long
 * (AN2606 voltage range; docs/protocol.md §5.1, §5.2). With margin 2 an F4
 * 128 KiB sector gets ≥ 4 s and an F4 mass erase ≥ 64 s.
 */
import { programMs, unitEraseMs, eraseUnits, type DeviceInfo } from "./device.js";

/** Bits per byte on the wire: start + 8 data + parity + stop (8E1, AN3155 §2.1). */
export const BITS_PER_BYTE = 11;

export interface TimeoutPolicy {
  /** Fixed allowance added to every wait (USB latency timers, scheduling), in ms. */
  latencyMs: number;
  /** Multiplier on the wire time. */
  wireMargin: number;
  /** Multiplier on the device's worst-case operation time. */
  deviceMargin: number;
}

export const DEFAULT_TIMEOUT_POLICY: TimeoutPolicy = { latencyMs: 250, wireMargin: 1.5, deviceMargin: 2 };

/** Time `bytes` take on a USART line at `baud` (8E1), in ms. */
export function wireMs(bytes: number, baud: number): number {
  return (bytes * BITS_PER_BYTE * 1000) / baud;
}

/**
 * Budget for one wait: `bytes` is every byte that has to cross the line before the awaited reply is
 * complete (the frame just sent plus the reply), `deviceMs` the worst-case device work in between.
 */
export function replyTimeoutMs(policy: TimeoutPolicy, baud: number, bytes: number, deviceMs = 0): number {
  return Math.ceil(
    policy.latencyMs + wireMs(bytes, baud) * policy.wireMargin + deviceMs * policy.deviceMargin,
  );
}

/** Device-side worst cases, in ms, for the operations whose ACK waits on flash work. */
export const deviceWorstCase = {
  /** Programming `bytes` bytes (one Write Memory block). */
  program: (device: DeviceInfo | undefined, bytes: number): number =>
    device ? programMs(device, bytes, "max") : 0,
  /** Erasing the listed units (one Erase / Extended Erase command). */
  eraseUnits: (device: DeviceInfo | undefined, sizes: readonly number[]): number =>
    device ? sizes.reduce((ms, size) => ms + unitEraseMs(device, size, "max"), 0) : sizes.length * 5_000,
  /**
   * Erasing everything: a mass erase where the part has one, else (L0/L1) every unit in turn, which is
   * also what Readout Unprotect costs on those parts. Unknown part: stm32flash's 35 s.
   */
  eraseAll: (device: DeviceInfo | undefined): number => {
    if (!device) return 35_000;
    const allUnits = eraseUnits(device).reduce((ms, u) => ms + unitEraseMs(device, u.size, "max"), 0);
    return device.massErase ? Math.max(device.timing.massEraseMs.max, 1) : allUnits;
  },
  /** Option-byte programming plus the reset that follows (Write Protect/Unprotect, Readout Protect). */
  optionBytes: (): number => 1_000,
  /** Get Checksum over `bytes` bytes: generous, the CRC unit runs at flash read speed. */
  checksum: (bytes: number): number => 100 + bytes / 1024,
} as const;
