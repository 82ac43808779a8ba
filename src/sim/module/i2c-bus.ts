/**
 * An in-process I2C bus for simulated modules: several modules at different 7-bit addresses, one
 * master (the host), transactions one at a time, each an I2cTransport call. Used by tests, the demo
 * and the I2C benchmark.
 *
 * ```ts
 * const bus = createSimI2cBus({ clockHz: 400_000 });
 * bus.attach(createSimulatedModule({ device: "g071" }));      // at the device's AN2606 address (0x51)
 * const transport = bus.openTransport(0x51);                  // an I2cTransport for the link layer
 * ```
 *
 * WIRE MODEL (timing on). A bit time is 1/clockHz (2.5 µs at 400 kHz). A transaction costs
 *   START (1 bit) + address byte (8 bits + ACK = 9) + n × 9 bits (8 data bits + ACK/NACK) + STOP (1 bit)
 * = 11 + 9n bit times, i.e. 22.5 µs a byte at 400 kHz. Transactions are serialised on the bus (a
 * second host call waits for the bus to be free). A read whose reply is not ready yet (the device is
 * programming or erasing) is stretched: its data phase starts when the reply is ready. The host's
 * adapter gives up on a stretch longer than `maxStretchMs` and on a stalled or stuck bus after
 * `adapterTimeoutMs` (Linux adapters: typically one second), failing the transaction with a
 * TransportError "timeout". An address nobody acknowledges costs START + address + STOP and fails
 * with "i2c-nack". With timing off every transaction completes at once (on the next turn of the
 * event loop); flash times then follow the module's own timing switch.
 *
 * FAULTS (bus level): an address not acknowledged for the next n transactions, a read cut short by
 * the master after k bytes (the transport reports a short read; the device sees an early NACK), and a
 * stuck bus (SDA held low: every transaction times out until the fault is cleared or expires).
 */
import { silentLogger, type Logger } from "../../util/logger.js";
import { TransportError } from "../../targets/index.js";
import {
  checkI2cAddress,
  checkI2cClock,
  DEFAULT_I2C_CLOCK_HZ,
  I2C_BITS_PER_BYTE,
  I2C_TRANSACTION_OVERHEAD_BITS,
  i2cAddressName,
  type I2cBusAccess,
} from "../../targets/index.js";
import type { I2cTransport, TransportStats } from "../../targets/index.js";
import { SimError } from "./errors.js";
import type { SimI2cEndpoint } from "./i2c-front-end.js";
import { clockNow, DeadlineQueue } from "./scheduler.js";

export interface SimI2cBusOptions {
  /** Bus clock in Hz (default 400 kHz, fast mode). */
  clockHz?: number;
  /** Model wire time (default true). False: transactions complete at once. */
  timing?: boolean;
  /** How long the host adapter waits on a stalled or stuck bus before failing the transaction, ms (default 1000). */
  adapterTimeoutMs?: number;
  /** Longest clock stretch the adapter tolerates, ms (default: adapterTimeoutMs). Some give up after a few ms. */
  maxStretchMs?: number;
  /** Name in transport descriptions and messages (default "sim-i2c"). */
  name?: string;
  logger?: Logger;
}

export type SimI2cFault =
  /** The next `count` transactions (default 1) to `address` are not acknowledged. */
  | { kind: "nack-address"; address: number; count?: number }
  /** The `nth` read transaction (default 1) to `address` is ended by the master after `bytes` bytes. */
  | { kind: "short-read"; address: number; nth?: number; bytes: number }
  /** SDA held low: the next `transactions` transactions (default: all, until cleared) time out. */
  | { kind: "stuck-bus"; transactions?: number };

export interface ActiveI2cFault {
  readonly fault: SimI2cFault;
  /** Transactions still to count before it fires (short-read), or still affected (nack-address, stuck-bus). */
  remaining: number;
  fired: boolean;
}

export interface SimI2cBusStats {
  transactions: number;
  writes: number;
  reads: number;
  bytesWritten: number;
  bytesRead: number;
  /** Read transactions answered BUSY (0x76). */
  busyPolls: number;
  /** Address NACKs and failed (timed out, stalled) transactions. */
  nacks: number;
  timeouts: number;
  /** Modelled bus time of all transactions, and of the BUSY polls among them, ms. */
  wireMs: number;
  busyPollWireMs: number;
  /** Modelled time SCL was held low by stretching slaves, ms. */
  stretchMs: number;
}

export function createSimI2cBus(options: SimI2cBusOptions = {}): SimI2cBus {
  return new SimI2cBus(options);
}

/** What attach() accepts: a simulated module (it has an I2C endpoint) or a bare endpoint. */
export interface SimI2cAttachable {
  i2cEndpoint(): SimI2cEndpoint;
  readonly device?: { bootloader: { i2cAddress?: number }; name: string };
}

type Settle = () => void;

export class SimI2cBus implements I2cBusAccess {
  readonly description: string;
  readonly clockHz: number;
  readonly timing: boolean;
  readonly adapterTimeoutMs: number;
  readonly maxStretchMs: number;
  readonly stats: SimI2cBusStats = emptyBusStats();
  readonly #bitMs: number;
  readonly #devices = new Map<number, SimI2cEndpoint>();
  readonly #faults: ActiveI2cFault[] = [];
  readonly #queue = new DeadlineQueue<Settle>((settle) => settle());
  readonly #log: Logger;
  #free = 0;
  #closed = false;

  constructor(options: SimI2cBusOptions = {}) {
    this.description = options.name ?? "sim-i2c";
    this.clockHz = options.clockHz ?? DEFAULT_I2C_CLOCK_HZ;
    checkI2cClock(this.clockHz, this.description);
    this.timing = options.timing ?? true;
    this.adapterTimeoutMs = options.adapterTimeoutMs ?? 1_000;
    this.maxStretchMs = options.maxStretchMs ?? this.adapterTimeoutMs;
    this.#bitMs = 1000 / this.clockHz;
    this.#log = (options.logger ?? silentLogger).child({ bus: this.description });
  }

  /** Puts a module (or endpoint) on the bus at `address` (default: the device table's bootloader address). */
  attach(target: SimI2cAttachable | SimI2cEndpoint, address?: number): number {
    const endpoint = "i2cEndpoint" in target ? target.i2cEndpoint() : target;
    const device = "i2cEndpoint" in target ? target.device : undefined;
    const at = address ?? device?.bootloader.i2cAddress;
    if (at === undefined) {
      throw new SimError(
        "bad-option",
        `${this.description}: ${device?.name ?? "the module"} has no known I2C bootloader address; pass one to attach()`,
        {},
      );
    }
    checkI2cAddress(at, this.description);
    if (this.#devices.has(at)) {
      throw new SimError(
        "bad-option",
        `${this.description}: address ${i2cAddressName(at)} is already taken`,
        { address: at },
      );
    }
    this.#devices.set(at, endpoint);
    return at;
  }

  detach(address: number): void {
    this.#devices.delete(address);
  }

  /** Addresses with a module attached, ascending. */
  get addresses(): number[] {
    return [...this.#devices.keys()].sort((a, b) => a - b);
  }

  openTransport(address: number): I2cTransport {
    checkI2cAddress(address, this.description);
    if (this.#closed) throw new SimError("closed", `${this.description} is closed`, {});
    return new SimI2cTransport(this, address);
  }

  injectFault(fault: SimI2cFault): ActiveI2cFault {
    const count =
      fault.kind === "short-read"
        ? (fault.nth ?? 1)
        : fault.kind === "nack-address"
          ? (fault.count ?? 1)
          : (fault.transactions ?? Infinity);
    if (!(count >= 1) || (Number.isFinite(count) && !Number.isInteger(count)))
      throw new RangeError(`sim I2C fault ${fault.kind}: count must be an integer ≥ 1`);
    const entry: ActiveI2cFault = { fault, remaining: count, fired: false };
    this.#faults.push(entry);
    return entry;
  }

  get faults(): readonly ActiveI2cFault[] {
    return this.#faults;
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Modelled bus time of a transaction with `payload` bytes and no stretching, ms. */
  transactionMs(payload: number): number {
    return (I2C_TRANSACTION_OVERHEAD_BITS + payload * I2C_BITS_PER_BYTE) * this.#bitMs;
  }

  close(): void {
    this.#closed = true;
    this.#queue.clear();
  }

  // ---- transactions (called by SimI2cTransport) ----

  write(address: number, bytes: Uint8Array, description: string): Promise<void> {
    return this.#transaction(address, description, (start) => {
      const end = start + this.#ms(I2C_TRANSACTION_OVERHEAD_BITS + bytes.length * I2C_BITS_PER_BYTE);
      this.stats.writes++;
      this.stats.bytesWritten += bytes.length;
      this.#endpoint(address)!.write(bytes, end);
      return { end, value: undefined };
    });
  }

  read(address: number, length: number, description: string): Promise<Uint8Array> {
    return this.#transaction(address, description, (start) => {
      const header = start + this.#ms(1 + I2C_BITS_PER_BYTE);
      const cut = this.#shortRead(address);
      const wanted = cut === undefined ? length : Math.min(cut, length);
      const outcome = this.#endpoint(address)!.read(wanted, header);
      this.stats.reads++;
      if (outcome.kind === "stall") return this.#timedOut(start, description, address, outcome.reason);
      const stretch = outcome.dataStart - header;
      if (stretch > this.maxStretchMs) {
        return this.#timedOut(
          start,
          description,
          address,
          `the device stretched SCL for ${stretch.toFixed(1)} ms, longer than the adapter allows (${this.maxStretchMs} ms)`,
          this.maxStretchMs,
        );
      }
      this.stats.stretchMs += stretch;
      const end = outcome.dataStart + this.#ms(wanted * I2C_BITS_PER_BYTE + 1);
      this.stats.bytesRead += wanted;
      if (outcome.busy) {
        this.stats.busyPolls++;
        this.stats.busyPollWireMs += this.transactionMs(wanted);
      }
      if (wanted < length) {
        return {
          end,
          error: new TransportError("io-error", `${description}: short read, ${wanted} of ${length} bytes`, {
            port: this.description,
            address,
            wanted: length,
            got: wanted,
          }),
        };
      }
      return { end, value: outcome.bytes.slice() };
    });
  }

  // ---- internals ----

  #ms(bits: number): number {
    return this.timing ? bits * this.#bitMs : 0;
  }

  #endpoint(address: number): SimI2cEndpoint | undefined {
    return this.#devices.get(address);
  }

  /**
   * Runs one transaction: the bus is taken from max(now, free); `body` computes its outcome and end
   * time, the promise settles at that time. Address NACK and a stuck bus are handled here.
   */
  #transaction<T>(
    address: number,
    description: string,
    body: (start: number) => { end: number; value?: T; error?: Error },
  ): Promise<T> {
    if (this.#closed)
      return Promise.reject(
        new TransportError("closed", `${description}: the simulated bus is closed`, {
          port: this.description,
          address,
        }),
      );
    const now = clockNow();
    const start = this.timing ? Math.max(now, this.#free) : now;
    this.stats.transactions++;
    let outcome: { end: number; value?: T; error?: Error };
    if (this.#stuck()) {
      outcome = this.#timedOut(start, description, address, "the bus is stuck (SDA held low)");
    } else if (
      this.#nacked(address) ||
      !this.#endpoint(address)?.acknowledges(start + this.#ms(1 + I2C_BITS_PER_BYTE))
    ) {
      this.stats.nacks++;
      outcome = {
        end: start + this.#ms(I2C_TRANSACTION_OVERHEAD_BITS),
        error: new TransportError(
          "i2c-nack",
          `${description}: no device acknowledged address ${i2cAddressName(address)} on ${this.description}`,
          {
            port: this.description,
            address,
          },
        ),
      };
    } else {
      outcome = body(start);
    }
    const end = Math.max(outcome.end, start);
    if (this.timing) {
      this.#free = end;
      this.stats.wireMs += end - start;
    }
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => (outcome.error ? reject(outcome.error) : resolve(outcome.value as T));
      if (end > now) this.#queue.push(end, settle);
      else setImmediate(settle);
    });
  }

  #timedOut(
    start: number,
    description: string,
    address: number,
    reason: string,
    afterMs = this.adapterTimeoutMs,
  ): { end: number; error: Error } {
    this.stats.timeouts++;
    this.#log.debug({ address: i2cAddressName(address), reason }, "transaction timed out");
    return {
      // The adapter's timeout is host time, not bus time: it elapses even with the timing model off.
      end: (this.timing ? start : clockNow()) + afterMs,
      error: new TransportError(
        "timeout",
        `${description}: the adapter timed out after ${afterMs} ms: ${reason}`,
        {
          port: this.description,
          address,
          timeoutMs: afterMs,
        },
      ),
    };
  }

  #stuck(): boolean {
    const fault = this.#faults.find((f) => f.fault.kind === "stuck-bus" && f.remaining > 0);
    if (!fault) return false;
    fault.fired = true;
    fault.remaining--;
    return true;
  }

  #nacked(address: number): boolean {
    const fault = this.#faults.find(
      (f) => f.fault.kind === "nack-address" && f.fault.address === address && f.remaining > 0,
    );
    if (!fault) return false;
    fault.fired = true;
    fault.remaining--;
    return true;
  }

  /** Bytes the master reads before it stops, when a short-read fault fires on this read. */
  #shortRead(address: number): number | undefined {
    for (const f of this.#faults) {
      if (f.fault.kind !== "short-read" || f.fault.address !== address || f.fired) continue;
      if (--f.remaining > 0) continue;
      f.fired = true;
      return f.fault.bytes;
    }
    return undefined;
  }
}

/** The host's end: an I2cTransport to one address on a simulated bus. */
class SimI2cTransport implements I2cTransport {
  readonly kind = "i2c";
  readonly description: string;
  readonly stats: TransportStats = { bytesWritten: 0, bytesRead: 0 };
  #closed = false;

  constructor(
    readonly bus: SimI2cBus,
    readonly address: number,
  ) {
    this.description = `${bus.description}@${i2cAddressName(address)}`;
  }

  get clockHz(): number {
    return this.bus.clockHz;
  }

  async writeTransaction(bytes: Uint8Array): Promise<void> {
    this.#assertOpen("write");
    await this.bus.write(this.address, bytes.slice(), this.description);
    this.stats.bytesWritten += bytes.length;
  }

  async readTransaction(length: number): Promise<Uint8Array> {
    this.#assertOpen("read");
    if (!Number.isInteger(length) || length < 1) {
      throw new TransportError("bad-settings", `${this.description}: read of ${length} bytes`, {
        port: this.bus.description,
        address: this.address,
        length,
      });
    }
    const bytes = await this.bus.read(this.address, length, this.description);
    this.stats.bytesRead += bytes.length;
    return bytes;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #assertOpen(what: string): void {
    if (this.#closed)
      throw new TransportError("closed", `${this.description}: ${what} after close`, {
        port: this.bus.description,
        address: this.address,
      });
  }
}

function emptyBusStats(): SimI2cBusStats {
  return {
    transactions: 0,
    writes: 0,
    reads: 0,
    bytesWritten: 0,
    bytesRead: 0,
    busyPolls: 0,
    nacks: 0,
    timeouts: 0,
    wireMs: 0,
    busyPollWireMs: 0,
    stretchMs: 0,
  };
}
