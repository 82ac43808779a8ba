/**
 * The fast data path of an open serial port: bytes move with non-blocking read(2)/write(2) on the
 * port's file descriptor, from the main thread, woken by epoll.
 *
 * Why: serialport's own data path waits for readability with a uv_poll handle and then reads through
 * `fs.read`, i.e. libuv's thread pool (and writes go through the pool too). Every command turnaround
 * of the bootloader protocol (AN3155: one frame, one ACK; 6 per 256-byte block written and read
 * back) pays pool hops that way, about 1 ms each on a busy 2-core machine; here it pays one epoll
 * wake-up. Measured (bench/flash.ts, 64 KiB with read-back, 1536 turnarounds, lower bound 14.5 s):
 * 17.4 s through serialport's stream, 15.3 s through this path.
 *
 * How: serialport keeps everything else (opening, the flock, termios, modem lines, tcflush/tcdrain,
 * closing the fd). We borrow its uv_poll handle (`LinuxPortBinding.poller`, level-triggered, on the
 * same fd) for readiness and never start its stream reader, so nothing else reads the fd.
 *
 * Not used: `tty.ReadStream(fd)`. libuv's uv_tty_init reopens a tty slave by name and dup2()s the new
 * file description over the fd, which drops serialport's flock (a second open would then succeed),
 * and closing the stream would close the fd under serialport. `net.Socket({ fd })` refuses tty fds.
 */
import { EventEmitter } from "node:events";
import { readSync, writeSync } from "node:fs";

/** The parts of serialport's Linux/Darwin binding this path needs (both are public, typed members). */
export interface PollableBinding {
  readonly fd: number | null;
  readonly poller: {
    once(event: "readable" | "writable", callback: (err: Error | null) => void): unknown;
  };
}

export interface FdDataPathHandlers {
  /** Received bytes: a fresh view that is never written again (may be kept by reference). */
  onData(chunk: Uint8Array): void;
  /** The port went away (hang-up, unplugged adapter, read error). Called once; reading has stopped. */
  onLost(error: Error): void;
}

/** Bytes per read buffer; each read gets a view of the unused rest, so chunks are never copied. */
const POOL_BYTES = 64 * 1024;
/** Below this much room a new buffer is started (a read never asks for less). */
const MIN_READ_BYTES = 1024;

/** The binding's poller and fd when serialport exposes them (Linux and macOS bindings), else undefined. */
export function pollableBinding(binding: unknown): PollableBinding | undefined {
  const candidate = binding as Partial<PollableBinding> | undefined;
  if (!candidate || typeof candidate.fd !== "number") return undefined;
  if (typeof candidate.poller?.once !== "function") return undefined;
  return candidate as PollableBinding;
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

const isRetry = (code: string | undefined): boolean =>
  code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR";

export class FdDataPath {
  readonly #binding: PollableBinding;
  readonly #fd: number;
  readonly #handlers: FdDataPathHandlers;
  #pool = new Uint8Array(POOL_BYTES);
  #used = 0;
  #stopped = false;
  /** Tail of the writes waiting for the fd to become writable (undefined when none waits). */
  #writeTail: Promise<void> | undefined;

  constructor(binding: PollableBinding, handlers: FdDataPathHandlers) {
    if (binding.fd === null) throw new Error("the serial port is not open");
    this.#binding = binding;
    this.#fd = binding.fd;
    this.#handlers = handlers;
    this.#arm();
  }

  /** Stops reading; the fd itself stays serialport's to close. Pending writes reject. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Hands `bytes` to the kernel (the same point at which serialport's write completes). Usually one
   * write(2) at once; a full output buffer waits for writability. Writes keep their order.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error("the serial port data path is stopped"));
    if (this.#writeTail === undefined) {
      let done: number;
      try {
        done = this.#writeNow(bytes, 0);
      } catch (error) {
        return Promise.reject(asError(error));
      }
      if (done === bytes.length) return Promise.resolve();
      return this.#queueWrite(bytes, done);
    }
    return this.#queueWrite(bytes, 0);
  }

  #queueWrite(bytes: Uint8Array, offset: number): Promise<void> {
    const previous = this.#writeTail ?? Promise.resolve();
    const run = previous.then(
      () => this.#writeRest(bytes, offset),
      () => this.#writeRest(bytes, offset),
    );
    const tail = run.catch(() => {});
    this.#writeTail = tail;
    void tail.then(() => {
      if (this.#writeTail === tail) this.#writeTail = undefined;
    });
    return run;
  }

  async #writeRest(bytes: Uint8Array, offset: number): Promise<void> {
    let done = offset;
    while (done < bytes.length) {
      await this.#writable();
      if (this.#stopped) throw new Error("the serial port data path is stopped");
      done = this.#writeNow(bytes, done);
    }
  }

  /** write(2) until done or the kernel buffer is full; returns the bytes written so far. */
  #writeNow(bytes: Uint8Array, offset: number): number {
    let done = offset;
    while (done < bytes.length) {
      try {
        done += writeSync(this.#fd, bytes, done, bytes.length - done);
      } catch (error) {
        if (isRetry(errnoOf(error))) return done;
        throw error;
      }
    }
    return done;
  }

  #writable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#binding.poller.once("writable", (err) => (err ? reject(err) : resolve()));
    });
  }

  #arm(): void {
    this.#binding.poller.once("readable", this.#onReadable);
  }

  readonly #onReadable = (err: Error | null): void => {
    if (this.#stopped) return;
    if (err) {
      // uv_poll reports a hang-up (POLLERR/POLLHUP) as an error (EBADF); serialport's stop() as "canceled".
      this.#lose(err);
      return;
    }
    for (;;) {
      if (POOL_BYTES - this.#used < MIN_READ_BYTES) {
        this.#pool = new Uint8Array(POOL_BYTES);
        this.#used = 0;
      }
      const room = POOL_BYTES - this.#used;
      let n: number;
      try {
        n = readSync(this.#fd, this.#pool, this.#used, room, null);
      } catch (error) {
        if (isRetry(errnoOf(error))) break;
        this.#lose(asError(error));
        return;
      }
      if (n === 0) {
        // A non-blocking tty read returns 0 only on hang-up (no data gives EAGAIN).
        this.#lose(new Error("end of file (hang-up)"));
        return;
      }
      const chunk = this.#pool.subarray(this.#used, this.#used + n);
      this.#used += n;
      this.#handlers.onData(chunk);
      if (this.#stopped) return;
      // A short read emptied the kernel buffer: wait for epoll rather than pay an EAGAIN.
      if (n < room) break;
    }
    this.#arm();
  };

  #lose(error: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#handlers.onLost(error);
  }
}

/** A byte stream over the fd data path: 'data' events and fire-and-forget writes (the simulator's tty end). */
export interface FdStream {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Queues `chunk` for the port; a failure goes to `onError`. */
  write(chunk: Uint8Array): void;
  stop(): void;
}

/**
 * The fd data path of an open serialport port as a stream, or undefined when its binding exposes no
 * fd and poller (then use the port's own stream). `onError` hears of a lost port or a failed write.
 */
export function openFdStream(binding: unknown, onError: (error: Error) => void): FdStream | undefined {
  const pollable = pollableBinding(binding);
  if (!pollable) return undefined;
  const emitter = new EventEmitter();
  const path = new FdDataPath(pollable, { onData: (chunk) => emitter.emit("data", chunk), onLost: onError });
  return {
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    write: (chunk) => void path.write(chunk).catch(onError),
    stop: () => path.stop(),
  };
}
