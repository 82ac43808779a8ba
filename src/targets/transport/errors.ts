import { SubflashError } from "../../util/errors.js";

export type TransportErrorCode =
  | "port-not-found" // the device node does not exist
  | "port-busy" // another process holds the port (EBUSY / lock)
  | "permission-denied"
  | "open-failed"
  | "bad-settings" // baud, parity, address… that the port or bus refuses
  | "timeout" // fewer bytes than asked for arrived in time
  | "closed" // used after close()
  | "disconnected" // the device went away while in use
  | "io-error"
  | "bus-missing" // /dev/i2c-N does not exist
  | "i2c-unsupported" // adapter lacks plain I2C (SMBus only)
  | "i2c-nack" // no device acknowledged its address
  | "gpio-failed"; // gpioset (libgpiod) could not be run or could not hold the BOOT0/NRST lines

const TRANSPORT_TRANSIENT: ReadonlySet<TransportErrorCode> = new Set<TransportErrorCode>([
  "timeout",
  "io-error",
  "disconnected",
  "closed",
]);

/** Anything that goes wrong below the bootloader protocol: opening, reading, writing a port or bus. */
export class TransportError extends SubflashError<TransportErrorCode> {
  readonly domain = "transport";

  /**
   * Whether another attempt may succeed: the port or bus went away or failed mid-transfer (a USB
   * adapter re-enumerating, a glitch). A missing or busy port, missing permissions or settings the
   * port refuses stay until someone changes something.
   */
  get transient(): boolean {
    return TRANSPORT_TRANSIENT.has(this.code);
  }
}
