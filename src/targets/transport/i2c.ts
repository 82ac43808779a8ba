/**
 * The I2C transport: raw I2C transactions on a Linux adapter through the i2c-dev interface
 * (`/dev/i2c-N`), using i2c-bus's plain `i2cWrite` / `i2cRead`. Each of those is one write() or
 * read() on the i2c-dev file, which the kernel turns into exactly one transaction
 * (START, address, bytes, STOP). That is the shape AN4221 needs: every host frame one write
 * transaction, every ACK and every data reply one read transaction (docs/protocol.md §3.1).
 *
 * SMBus-only adapters cannot carry these transactions (they lack I2C_FUNC_I2C); opening refuses them
 * with "i2c-unsupported" instead of failing later with an obscure errno (§3.1, stm32flash I2C.txt).
 *
 * Errors of a transaction, as Linux adapters report them:
 * - ENXIO or EREMOTEIO: nobody acknowledged the address (or a data byte) → "i2c-nack";
 * - ETIMEDOUT: the adapter gave up, typically because the slave stretched SCL longer than the
 *   adapter allows (the plain bootloader commands stretch during flash work), or the bus is stuck
 *   → "timeout";
 * - anything else → "io-error".
 * The bus speed is set by the adapter's driver (device tree, module parameter), not per transaction;
 * `clockHz` only tells the link layer what to expect for its timeouts.
 */
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import type * as I2cBus from "i2c-bus";
import { hex, silentLogger, type Logger } from "../../util/logger.js";
import { TransportError } from "./errors.js";
import {
  checkI2cAddress,
  checkI2cClock,
  DEFAULT_I2C_CLOCK_HZ,
  i2cAddressName,
  parseI2cBus,
  type I2cBusAccess,
} from "./i2c-types.js";
import type { I2cTransport, TransportStats } from "./transport.js";
import { SerialQueue } from "../../util/serial-queue.js";

export { parseI2cBus };

export interface I2cBusOptions {
  /** Bus clock the adapter runs at, in Hz (default 400 kHz); used for timeouts and estimates only. */
  clockHz?: number;
  /** Access addresses claimed by a kernel driver (I2C_SLAVE_FORCE). Default false. */
  forceAccess?: boolean;
  logger?: Logger;
}

/** `/dev/i2c-N` for bus N. */
export function i2cBusPath(bus: number): string {
  return `/dev/i2c-${bus}`;
}

/**
 * Opens I2C bus `bus` (its number, or "/dev/i2c-N"). Rejects with TransportError "bus-missing" when
 * the device node does not exist, "permission-denied", "open-failed" (not a character device, or the
 * adapter cannot be queried) and "i2c-unsupported" when the adapter offers SMBus only.
 */
export async function openI2cBus(bus: number | string, options: I2cBusOptions = {}): Promise<LinuxI2cBus> {
  const number = parseI2cBus(bus);
  const path = i2cBusPath(number);
  const clockHz = options.clockHz ?? DEFAULT_I2C_CLOCK_HZ;
  checkI2cClock(clockHz, path);
  await inspectBusNode(path);
  // i2c-bus is a native addon built for one Node ABI: loaded only when a bus is opened, so a gateway
  // without I2C modules (or with simulated ones) never depends on it.
  const i2c = createRequire(import.meta.url)("i2c-bus") as typeof I2cBus;
  const handle = await i2c
    .openPromisified(number, { forceAccess: options.forceAccess ?? false })
    .catch((cause: unknown) => {
      throw errnoError(cause, path, undefined, "open");
    });
  let funcs: I2cBus.I2CFuncs;
  try {
    funcs = await handle.i2cFuncs();
  } catch (cause) {
    await handle.close().catch(() => {});
    throw errnoError(cause, path, undefined, "query the adapter of");
  }
  if (!funcs.i2c) {
    await handle.close().catch(() => {});
    throw new TransportError(
      "i2c-unsupported",
      `${path}: the adapter offers SMBus transfers only (no I2C_FUNC_I2C); the STM32 bootloader needs plain I2C transactions, use another adapter`,
      { port: path, bus: number },
    );
  }
  return new LinuxI2cBus(handle, { path, bus: number, clockHz, logger: options.logger ?? silentLogger });
}

/** Opens bus `bus` and a transport to `address` on it; closing the transport closes the bus. */
export async function openI2cTransport(
  bus: number | string,
  address: number,
  options: I2cBusOptions = {},
): Promise<I2cTransport> {
  const path = i2cBusPath(parseI2cBus(bus));
  checkI2cAddress(address, path);
  const opened = await openI2cBus(bus, options);
  return opened.openTransport(address, { closesBus: true });
}

async function inspectBusNode(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new TransportError(
        "bus-missing",
        `${path} does not exist: is the i2c-dev module loaded and the bus number right?`,
        { port: path },
        { cause },
      );
    }
    throw errnoError(cause, path, undefined, "open");
  }
  if (!info.isCharacterDevice()) {
    throw new TransportError("open-failed", `${path} is not an I2C bus (not a character device)`, {
      port: path,
    });
  }
}

/** Maps a Node errno error from the i2c-dev file to a TransportError that names bus and address. */
function errnoError(
  cause: unknown,
  path: string,
  address: number | undefined,
  action: string,
): TransportError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  const at = address === undefined ? path : `${path} address ${i2cAddressName(address)}`;
  const context = address === undefined ? { port: path } : { port: path, address };
  const options = { cause };
  switch (code) {
    case "ENOENT":
      return new TransportError(
        "bus-missing",
        `${path} does not exist: is the i2c-dev module loaded and the bus number right?`,
        context,
        options,
      );
    case "EACCES":
    case "EPERM":
      return new TransportError(
        "permission-denied",
        `${path}: permission denied (is the user in the i2c group?)`,
        context,
        options,
      );
    case "EBUSY":
      return new TransportError(
        "port-busy",
        `${at} is claimed by a kernel driver (unbind it, or open with forceAccess)`,
        context,
        options,
      );
    case "ENXIO":
    case "EREMOTEIO":
      return new TransportError(
        "i2c-nack",
        `${at}: no acknowledge from the device (nothing answers at ${address === undefined ? "this address" : i2cAddressName(address)}: is the module in its bootloader, and is this its bootloader address, AN2606?)`,
        context,
        options,
      );
    case "ETIMEDOUT":
      return new TransportError(
        "timeout",
        `${at}: the adapter timed out (the device held SCL low longer than the adapter allows — clock stretching during flash work — or the bus is stuck)`,
        context,
        options,
      );
    case "ENODEV":
    case "ESHUTDOWN":
      return new TransportError("disconnected", `${at}: the adapter went away (${text})`, context, options);
    default:
      return new TransportError(
        action === "open" ? "open-failed" : "io-error",
        `${at}: cannot ${action} (${text})`,
        context,
        options,
      );
  }
}

interface BusInit {
  path: string;
  bus: number;
  clockHz: number;
  logger: Logger;
}

/** An open Linux I2C bus. Transactions of all its transports run one at a time, in call order. */
export class LinuxI2cBus implements I2cBusAccess {
  readonly description: string;
  readonly path: string;
  readonly bus: number;
  readonly clockHz: number;
  readonly #handle: I2cBus.PromisifiedBus;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  #closed = false;

  constructor(handle: I2cBus.PromisifiedBus, init: BusInit) {
    this.#handle = handle;
    this.path = init.path;
    this.description = init.path;
    this.bus = init.bus;
    this.clockHz = init.clockHz;
    this.#log = init.logger.child({ transport: "i2c", port: init.path });
  }

  openTransport(address: number, options: { closesBus?: boolean } = {}): I2cTransport {
    checkI2cAddress(address, this.path);
    return new LinuxI2cTransport(this, address, options.closesBus ?? false);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.idle();
    await this.#handle.close().catch((err: unknown) => this.#log.warn({ err }, "close failed"));
  }

  /**
   * Runs one transaction after the ones before it. i2c-bus runs each call on libuv's thread pool,
   * so two calls in flight could reach the kernel in either order; the queue keeps frames in order.
   */
  run<T>(address: number, what: "write" | "read", fn: (h: I2cBus.PromisifiedBus) => Promise<T>): Promise<T> {
    const step = async (): Promise<T> => {
      if (this.#closed)
        throw new TransportError("closed", `${this.path}: ${what} after close`, { port: this.path, address });
      try {
        return await fn(this.#handle);
      } catch (cause) {
        if (cause instanceof TransportError) throw cause;
        throw errnoError(cause, this.path, address, what);
      }
    };
    return this.#queue.run(step);
  }

  trace(obj: object, msg: string): void {
    if (this.#log.isLevelEnabled?.("trace")) this.#log.trace(obj, msg);
  }
}

class LinuxI2cTransport implements I2cTransport {
  readonly kind = "i2c";
  readonly description: string;
  readonly stats: TransportStats = { bytesWritten: 0, bytesRead: 0 };
  #closed = false;

  constructor(
    readonly bus: LinuxI2cBus,
    readonly address: number,
    readonly closesBus: boolean,
  ) {
    this.description = `${bus.path}@${i2cAddressName(address)}`;
  }

  get clockHz(): number {
    return this.bus.clockHz;
  }

  writeTransaction(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("write"));
    return this.bus.run(this.address, "write", async (h) => {
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.bus.trace({ dir: "tx", address: this.address, hex: hex(bytes) }, "write transaction");
      const { bytesWritten } = await h.i2cWrite(this.address, bytes.length, buffer);
      this.stats.bytesWritten += bytesWritten;
      if (bytesWritten !== bytes.length) {
        throw new TransportError(
          "io-error",
          `${this.description}: short write, ${bytesWritten} of ${bytes.length} bytes`,
          {
            port: this.bus.path,
            address: this.address,
            wanted: bytes.length,
            got: bytesWritten,
          },
        );
      }
    });
  }

  readTransaction(length: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(this.#closedError("read"));
    return this.bus.run(this.address, "read", async (h) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await h.i2cRead(this.address, length, buffer);
      this.stats.bytesRead += bytesRead;
      if (bytesRead !== length) {
        throw new TransportError(
          "io-error",
          `${this.description}: short read, ${bytesRead} of ${length} bytes`,
          {
            port: this.bus.path,
            address: this.address,
            wanted: length,
            got: bytesRead,
          },
        );
      }
      const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, length);
      this.bus.trace({ dir: "rx", address: this.address, hex: hex(bytes) }, "read transaction");
      return bytes;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.closesBus) await this.bus.close();
  }

  #closedError(what: string): TransportError {
    return new TransportError("closed", `${this.description}: ${what} after close`, {
      port: this.bus.path,
      address: this.address,
    });
  }
}
