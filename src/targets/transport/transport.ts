/**
 * The hardware seam. Only files under src/targets/transport (and the simulator's in-process ends)
 * implement these; everything above talks to a bootloader through them.
 *
 * Two shapes, because the two ROM bootloader interfaces frame differently:
 * - USART (AN3155) is a byte stream: the link layer decides where frames begin and end.
 * - I2C (AN4221) is transaction based: every host frame is one write transaction and every ACK or
 *   data reply one read transaction of a known length.
 */

export interface TransportStats {
  bytesWritten: number;
  bytesRead: number;
}

/** Modem-control lines of a serial adapter, used for bootloader entry (BOOT0/NRST wiring). */
export interface SerialLines {
  dtr?: boolean;
  rts?: boolean;
}

export interface StreamTransport {
  readonly kind: "stream";
  /** Human-readable identity for messages and logs, e.g. "/dev/ttyUSB0". */
  readonly description: string;
  /** Line speed in baud; the link layer sizes timeouts from it. */
  readonly baud: number;
  readonly stats: TransportStats;
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Resolves with exactly `length` bytes. Rejects with TransportError "timeout" when they have not all
   * arrived `timeoutMs` after the call (bytes that did arrive stay buffered for the next read).
   */
  read(length: number, timeoutMs: number): Promise<Uint8Array>;
  /** Drops every byte received and not yet read (after a reset, before a resync). */
  discardInput(): void;
  /** Drives DTR/RTS where the port has them; a no-op elsewhere. */
  setLines(lines: SerialLines): Promise<void>;
  close(): Promise<void>;
}

export interface I2cTransport {
  readonly kind: "i2c";
  readonly description: string;
  /** 7-bit slave address of the bootloader. */
  readonly address: number;
  /** Bus clock in Hz (100 kHz or 400 kHz), for timeouts and wire-time estimates. */
  readonly clockHz: number;
  readonly stats: TransportStats;
  /** START, addr+W, bytes, STOP. Rejects with "i2c-nack" when the address is not acknowledged. */
  writeTransaction(bytes: Uint8Array): Promise<void>;
  /** START, addr+R, `length` bytes, STOP. */
  readTransaction(length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export type Transport = StreamTransport | I2cTransport;
