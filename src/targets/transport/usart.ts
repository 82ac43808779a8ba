/**
 * The USART transport: a serial port (serialport's Linux binding) as a StreamTransport.
 *
 * Line format: AN3155 §2 wants 8 data bits, EVEN parity, 1 stop bit (8E1, 11 bit times a byte), no
 * flow control. `parity: "none"` gives 8N1, for pseudo-terminals and the few parts that want it
 * (docs/protocol.md §2.1).
 *
 * Pseudo-terminals cannot carry parity: Linux's pty driver clears PARENB from every termios change
 * (drivers/tty/pty.c), so tcsetattr "succeeds" and the line silently runs 8N1 — serialport reports no
 * error, stm32flash notices and fails with "Failed to set terminal flags". We refuse even parity on a
 * pty up front with an error that says what to do, rather than pretend to run 8E1.
 *
 * Opening uses serialport's exclusive lock (flock), so a second open of the same port, from this or
 * another process that also locks, fails with "port-busy".
 *
 * Data path: serialport opens, locks, sets termios and modem lines, flushes, drains and closes; the
 * bytes themselves move through serial-fd.ts (non-blocking read/write on the port's fd, woken by
 * epoll), which saves serialport's two thread-pool hops per command turnaround (the flash benchmark,
 * docs/simulator.md). When the binding exposes no fd and poller (a mock or a Windows binding), the
 * transport falls back to serialport's own stream ('data' events and write()); `fastDataPath` says
 * which one runs.
 */
import { stat } from "node:fs/promises";
import { SerialPort } from "./serial-port.js";
import { hex, silentLogger, type Logger } from "../../util/logger.js";
import { TransportError } from "./errors.js";
import { ReceiveQueue } from "./receive-queue.js";
import { FdDataPath, pollableBinding } from "./serial-fd.js";
import type { SerialLines, StreamTransport, TransportStats } from "./transport.js";

export type SerialParity = "even" | "none";

export interface SerialTransportOptions {
  /** Line speed in baud. Default 115200 (stm32loader's default; stm32flash uses 57600). */
  baud?: number;
  /** "even" (default): 8E1 as AN3155 requires. "none": 8N1 (pseudo-terminals, parts that need it). */
  parity?: SerialParity;
  logger?: Logger;
  /**
   * DTR/RTS to drive right after opening. Default: leave them as the OS set them on open (Linux
   * asserts both), which on some boards already resets the module (docs/protocol.md §7).
   */
  lines?: SerialLines;
}

export const DEFAULT_BAUD = 115_200;

/** How long discardInput() lets output drain before it flushes the OS buffers anyway. */
const DRAIN_BUDGET_MS = 1_000;

/** errno codes of a write that mean the port is gone (unplugged adapter, pty hang-up). */
const LOST_PORT_CODES = new Set(["EIO", "ENXIO", "EBADF", "ENODEV"]);

/**
 * Opens `path` as a bootloader link. Rejects with TransportError: "port-not-found" (no such node),
 * "permission-denied", "port-busy" (locked by another open), "bad-settings" (baud or parity the port
 * refuses, including even parity on a pseudo-terminal), "open-failed" (anything else, e.g. not a
 * character device).
 */
export async function openSerialTransport(
  path: string,
  opts: SerialTransportOptions = {},
): Promise<SerialTransport> {
  const baud = opts.baud ?? DEFAULT_BAUD;
  const parity = opts.parity ?? "even";
  if (!Number.isInteger(baud) || baud <= 0) {
    throw new TransportError("bad-settings", `${path}: baud rate ${baud} is not a positive integer`, {
      port: path,
      baud,
    });
  }
  if (parity !== "even" && parity !== "none") {
    throw new TransportError("bad-settings", `${path}: parity "${String(parity)}" is not "even" or "none"`, {
      port: path,
      parity,
    });
  }
  const pseudoTerminal = await inspectPort(path);
  if (pseudoTerminal && parity === "even") {
    throw new TransportError(
      "bad-settings",
      `${path} refuses even parity (pseudo-terminals do: Linux silently clears PARENB, the line would run 8N1); use --parity none`,
      { port: path, parity, pseudoTerminal },
    );
  }

  const port = new SerialPort({
    path,
    baudRate: baud,
    dataBits: 8,
    stopBits: 1,
    parity,
    rtscts: false,
    xon: false,
    xoff: false,
    autoOpen: false,
    lock: true,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(openError(path, baud, err)) : resolve()));
  });
  const transport = new SerialTransport(port, {
    path,
    baud,
    parity,
    pseudoTerminal,
    logger: opts.logger ?? silentLogger,
  });
  if (opts.lines) {
    try {
      await transport.setLines(opts.lines);
    } catch (error) {
      await transport.close();
      throw error;
    }
  }
  return transport;
}

/** Checks the node exists and is a character device; true when it is a pseudo-terminal slave. */
async function inspectPort(path: string): Promise<boolean> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new TransportError("port-not-found", `${path} does not exist`, { port: path }, { cause });
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new TransportError("permission-denied", `${path}: permission denied`, { port: path }, { cause });
    }
    throw new TransportError(
      "open-failed",
      `${path}: ${(cause as Error).message}`,
      { port: path },
      { cause },
    );
  }
  if (!info.isCharacterDevice()) {
    throw new TransportError("open-failed", `${path} is not a serial port (not a character device)`, {
      port: path,
    });
  }
  // Linux device numbers (Documentation/admin-guide/devices.txt): 136–143 are Unix98 pty slaves
  // (/dev/pts/N), 3 the legacy BSD pty slaves. Major = bits 8–19 of the encoded dev_t.
  const major = Math.floor(info.rdev / 256) & 0xfff;
  return (major >= 136 && major <= 143) || major === 3;
}

/** serialport reports open failures as plain Errors with strerror text; map them to stable codes. */
function openError(path: string, baud: number, err: Error): TransportError {
  const text = err.message;
  const context = { port: path, baud };
  if (/cannot lock port|resource busy|EBUSY/i.test(text)) {
    return new TransportError(
      "port-busy",
      `${path} is in use by another process or connection (${text})`,
      context,
      { cause: err },
    );
  }
  if (/no such file|ENOENT/i.test(text)) {
    return new TransportError("port-not-found", `${path} does not exist`, context, { cause: err });
  }
  if (/permission denied|EACCES/i.test(text)) {
    return new TransportError(
      "permission-denied",
      `${path}: permission denied (is the user in the dialout group?)`,
      context,
      { cause: err },
    );
  }
  if (/baud|invalid argument|EINVAL/i.test(text)) {
    return new TransportError(
      "bad-settings",
      `${path} refuses ${baud} baud 8-bit framing (${text})`,
      context,
      { cause: err },
    );
  }
  return new TransportError("open-failed", `${path}: cannot open (${text})`, context, { cause: err });
}

interface SerialTransportInit {
  path: string;
  baud: number;
  parity: SerialParity;
  pseudoTerminal: boolean;
  logger: Logger;
}

/** An open serial port. Create it with openSerialTransport(). */
export class SerialTransport implements StreamTransport {
  readonly kind = "stream";
  readonly description: string;
  readonly path: string;
  readonly baud: number;
  readonly parity: SerialParity;
  /** The port is a pseudo-terminal (simulator, socat): no parity, no modem lines. */
  readonly pseudoTerminal: boolean;
  readonly stats: TransportStats = { bytesWritten: 0, bytesRead: 0 };

  readonly #port: SerialPort;
  /** The fd data path (serial-fd.ts), or undefined when serialport's stream carries the data. */
  readonly #fast: FdDataPath | undefined;
  readonly #log: Logger;
  readonly #rx = new ReceiveQueue();
  #state: "open" | "closed" | "disconnected" = "open";
  #failure: TransportError | undefined;
  /** Logical DTR/RTS (true = asserted). Linux asserts both when a port is opened. */
  #lines: Required<SerialLines> = { dtr: true, rts: true };
  #modemLines = true;
  /** Set while discardInput() drains and flushes the OS buffers; writes wait, arriving bytes are stale. */
  #flushing: Promise<void> | undefined;
  readonly #inFlightWrites = new Set<(error: Error) => void>();

  constructor(port: SerialPort, init: SerialTransportInit) {
    this.#port = port;
    this.path = init.path;
    this.description = init.path;
    this.baud = init.baud;
    this.parity = init.parity;
    this.pseudoTerminal = init.pseudoTerminal;
    this.#log = init.logger.child({ transport: "usart", port: init.path });
    const binding = pollableBinding(port.port);
    // serialport's stream reader only starts with a 'data' listener: the fd path must be the only reader.
    this.#fast = binding
      ? new FdDataPath(binding, {
          onData: (chunk) => this.#onData(chunk),
          onLost: (err) => this.#onLost(err),
        })
      : undefined;
    if (!this.#fast) port.on("data", (chunk: Buffer) => this.#onData(chunk));
    port.on("close", (err: (Error & { disconnected?: boolean }) | null) => this.#onClose(err));
    port.on("error", (err: Error) => this.#log.warn({ err }, "serial port error"));
    this.#log.debug(
      {
        baud: init.baud,
        parity: init.parity,
        pseudoTerminal: init.pseudoTerminal,
        fastDataPath: this.fastDataPath,
      },
      "opened",
    );
  }

  /** True when bytes move through the port's fd directly (serial-fd.ts), false on serialport's stream. */
  get fastDataPath(): boolean {
    return this.#fast !== undefined;
  }

  /** Current logical DTR/RTS levels (true = asserted), as last set. */
  get lines(): Readonly<Required<SerialLines>> {
    return { ...this.#lines };
  }

  /** False once the port turned out to have no modem-control lines (pseudo-terminals). */
  get modemLinesSupported(): boolean {
    return this.#modemLines;
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#rx.size;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#assertUsable();
    if (this.#flushing) await this.#flushing;
    this.#assertUsable();
    if (bytes.length === 0) return;
    if (this.#log.isLevelEnabled?.("trace"))
      this.#log.trace({ dir: "tx", n: bytes.length, hex: hex(bytes) }, "bytes");
    await new Promise<void>((resolve, reject) => {
      this.#inFlightWrites.add(reject);
      const finish = (err: Error | null | undefined): void => {
        this.#inFlightWrites.delete(reject);
        if (err) {
          if (this.#fast && LOST_PORT_CODES.has((err as NodeJS.ErrnoException).code ?? "")) this.#onLost(err);
          reject(
            this.#failure ??
              new TransportError(
                "io-error",
                `${this.path}: write failed (${err.message})`,
                { port: this.path },
                { cause: err },
              ),
          );
          return;
        }
        this.stats.bytesWritten += bytes.length;
        resolve();
      };
      if (this.#fast) this.#fast.write(bytes).then(() => finish(undefined), finish);
      else this.#port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), finish);
    });
  }

  read(length: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.#state !== "open") return Promise.reject(this.#unusable());
    return this.#rx.read(
      length,
      timeoutMs,
      (got) =>
        new TransportError(
          "timeout",
          `${this.path}: ${got} of ${length} bytes arrived within ${timeoutMs} ms`,
          {
            port: this.path,
            wanted: length,
            got,
            timeoutMs,
          },
        ),
    );
  }

  /**
   * Drops the bytes received and not read, then (in the background) lets pending output drain and
   * flushes the OS buffers. Writes issued meanwhile wait for the flush, so it can never swallow them,
   * and bytes arriving before it completes are dropped as stale.
   */
  discardInput(): void {
    this.#rx.discard();
    if (this.#state !== "open" || this.#flushing) return;
    this.#flushing = this.#flushOs().finally(() => {
      this.#flushing = undefined;
    });
  }

  /**
   * Drives DTR/RTS (true = asserted; unspecified lines keep their level). On a port without modem
   * lines (a pseudo-terminal answers ENOTTY) the levels are only recorded, so that sequences stay
   * consistent; other failures reject with "io-error".
   */
  async setLines(lines: SerialLines): Promise<void> {
    this.#assertUsable();
    const next = { dtr: lines.dtr ?? this.#lines.dtr, rts: lines.rts ?? this.#lines.rts };
    if (this.#modemLines) {
      try {
        // serialport sets every flag on each call, so both lines are always passed.
        await new Promise<void>((resolve, reject) =>
          this.#port.set(next, (err) => (err ? reject(err) : resolve())),
        );
      } catch (cause) {
        const text = (cause as Error).message;
        if (!/inappropriate ioctl|ENOTTY/i.test(text)) {
          throw new TransportError(
            "io-error",
            `${this.path}: cannot set DTR/RTS (${text})`,
            { port: this.path, ...next },
            { cause },
          );
        }
        this.#modemLines = false;
        this.#log.debug(
          { pseudoTerminal: this.pseudoTerminal },
          "port has no modem-control lines; DTR/RTS levels are recorded only",
        );
      }
    }
    this.#lines = next;
    this.#log.debug({ dtr: next.dtr, rts: next.rts }, "lines");
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#failAll(new TransportError("closed", `${this.path} was closed`, { port: this.path }));
    this.#fast?.stop();
    if (wasOpen && this.#port.isOpen) {
      await new Promise<void>((resolve) =>
        this.#port.close((err) => {
          if (err) this.#log.warn({ err }, "close failed");
          resolve();
        }),
      );
    }
    this.#log.debug({ ...this.stats }, "closed");
  }

  #onData(chunk: Uint8Array): void {
    this.stats.bytesRead += chunk.length;
    if (this.#log.isLevelEnabled?.("trace"))
      this.#log.trace({ dir: "rx", n: chunk.length, hex: hex(chunk) }, "bytes");
    if (this.#flushing) return;
    // A view, not a copy: both data paths hand out slices of a read pool and never reuse them.
    this.#rx.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
  }

  /** The fd data path lost the port (hang-up, unplugged): report it as serialport's disconnect would, and release the fd. */
  #onLost(err: Error): void {
    this.#fast?.stop();
    this.#onClose(Object.assign(err, { disconnected: true }));
    if (!this.#port.isOpen) return;
    this.#port.close((closeErr) => {
      if (closeErr) this.#log.debug({ err: closeErr }, "close after disconnect failed");
    });
  }

  #onClose(err: (Error & { disconnected?: boolean }) | null): void {
    if (this.#state !== "open") return;
    this.#state = "disconnected";
    const reason = err?.message ?? "closed by the system";
    this.#log.warn({ reason }, "port disconnected");
    this.#failAll(
      new TransportError(
        "disconnected",
        `${this.path} disconnected (${reason})`,
        { port: this.path },
        err ? { cause: err } : undefined,
      ),
    );
  }

  #failAll(error: TransportError): void {
    this.#failure = error;
    this.#rx.fail(error);
    for (const reject of this.#inFlightWrites) reject(error);
    this.#inFlightWrites.clear();
  }

  async #flushOs(): Promise<void> {
    const call = (fn: (cb: (err: Error | null) => void) => void): Promise<void> =>
      new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
    let timer: NodeJS.Timeout | undefined;
    try {
      // Drain first: serialport's flush is tcflush(TCIOFLUSH) and would also drop unsent output.
      const drained = await Promise.race([
        call((cb) => this.#port.drain(cb)).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_BUDGET_MS))),
      ]);
      if (!drained) this.#log.debug({ budgetMs: DRAIN_BUDGET_MS }, "output did not drain; flushing anyway");
      if (this.#state === "open") await call((cb) => this.#port.flush(cb));
    } catch (err) {
      this.#log.debug({ err }, "flushing the OS buffers failed");
    } finally {
      clearTimeout(timer);
    }
    this.#rx.discard();
  }

  #assertUsable(): void {
    if (this.#state !== "open") throw this.#unusable();
  }

  #unusable(): TransportError {
    return this.#failure ?? new TransportError("closed", `${this.path} is closed`, { port: this.path });
  }
}
