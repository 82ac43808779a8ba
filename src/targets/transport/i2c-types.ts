/**
 * Shapes shared by the Linux I2C bus (i2c.ts) and the simulator's in-process bus: a bus hands out
 * one I2cTransport per 7-bit slave address, so a bus scan and several modules on one bus go through
 * the same seam as a single bootloader.
 */
import { TransportError } from "./errors.js";
import type { I2cTransport } from "./transport.js";

/** The 7-bit addresses a bootloader may use: i2cdetect's and stm32flash's range (0x00–0x02 and 0x78–0x7F are reserved). */
export const FIRST_I2C_ADDRESS = 0x03;
export const LAST_I2C_ADDRESS = 0x77;

/** Fast mode (AN4221: the bootloader supports standard and fast mode, up to 400 kHz). */
export const DEFAULT_I2C_CLOCK_HZ = 400_000;

/** A bus on which transports to individual slave addresses can be opened. */
export interface I2cBusAccess {
  /** "/dev/i2c-1" or "sim-i2c", for messages. */
  readonly description: string;
  readonly clockHz: number;
  /** A transport to the slave at `address` (nothing is sent until the first transaction). */
  openTransport(address: number): I2cTransport;
}

/** "0x51", the way I2C tools print addresses. */
export function i2cAddressName(address: number): string {
  return `0x${address.toString(16).padStart(2, "0")}`;
}

/** Throws TransportError "bad-settings" unless `address` is a usable 7-bit slave address. */
export function checkI2cAddress(address: number, where: string): void {
  if (!Number.isInteger(address) || address < FIRST_I2C_ADDRESS || address > LAST_I2C_ADDRESS) {
    throw new TransportError(
      "bad-settings",
      `${where}: I2C address ${String(address)} is not a 7-bit slave address in 0x03..0x77 (give the 7-bit form, e.g. 0x51, not the 8-bit 0xA2)`,
      { port: where, address },
    );
  }
}

/** Throws TransportError "bad-settings" unless `clockHz` is a positive bus speed. */
export function checkI2cClock(clockHz: number, where: string): void {
  if (!Number.isFinite(clockHz) || clockHz <= 0) {
    throw new TransportError(
      "bad-settings",
      `${where}: I2C clock ${String(clockHz)} Hz is not a positive number`,
      { port: where, clockHz },
    );
  }
}

/** Bit times per byte on I2C: 8 data bits and the acknowledge bit. */
export const I2C_BITS_PER_BYTE = 9;
/**
 * Bit times a transaction adds around its payload: START (about one bit time of setup and hold), the
 * address byte (7 address bits, R/W, the slave's acknowledge) and STOP (about one bit time).
 */
export const I2C_TRANSACTION_OVERHEAD_BITS = 1 + I2C_BITS_PER_BYTE + 1;

/** Wire time of one transaction carrying `payloadBytes` at `clockHz`, in ms (no clock stretching). */
export function i2cTransactionMs(payloadBytes: number, clockHz: number): number {
  return ((I2C_TRANSACTION_OVERHEAD_BITS + payloadBytes * I2C_BITS_PER_BYTE) * 1000) / clockHz;
}

/**
 * Bus number from what a user types: "1", "i2c-1" or "/dev/i2c-1". Throws TransportError
 * "bad-settings" naming the input otherwise.
 */
export function parseI2cBus(spec: string | number): number {
  const text = String(spec).trim();
  const m = /^(?:\/dev\/)?(?:i2c-)?(\d+)$/.exec(text);
  const bus = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(bus)) {
    throw new TransportError(
      "bad-settings",
      `I2C bus "${text}" is not a bus number (e.g. 1, i2c-1 or /dev/i2c-1)`,
      { bus: text },
    );
  }
  return bus;
}
