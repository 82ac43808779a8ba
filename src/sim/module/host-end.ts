/**
 * The host's end of an in-process USART line to a simulated module: a StreamTransport the link layer
 * can use exactly like a serial port. Bytes written reach the module at once (arrival time = now);
 * the module's replies land here at their modelled times. Reads are served from a chunk queue.
 */
import { TransportError } from "../../targets/index.js";
import type { SerialLines, StreamTransport, TransportStats } from "../../targets/index.js";

/** What the host end needs from the module side. */
export interface SimLineEnd {
  receive(bytes: Uint8Array): void;
  setLines(lines: SerialLines): void;
  detach(end: SimHostEnd): void;
}

interface Waiter {
  length: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export class SimHostEnd implements StreamTransport {
  readonly kind = "stream";
  readonly stats: TransportStats = { bytesWritten: 0, bytesRead: 0 };
  readonly #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  readonly #waiters: Waiter[] = [];
  #closed = false;

  constructor(
    readonly description: string,
    readonly baud: number,
    readonly module: SimLineEnd,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not read yet. */
  get buffered(): number {
    return this.#buffered;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("write"));
    this.stats.bytesWritten += bytes.length;
    this.module.receive(bytes.slice());
    return Promise.resolve();
  }

  read(length: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(this.#closedError("read"));
    if (this.#waiters.length === 0 && this.#buffered >= length) return Promise.resolve(this.#take(length));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        length,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new TransportError(
              "timeout",
              `${this.description}: ${this.#buffered} of ${length} bytes arrived within ${timeoutMs} ms`,
              {
                port: this.description,
                expected: length,
                received: this.#buffered,
                timeoutMs,
              },
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  discardInput(): void {
    this.#chunks.length = 0;
    this.#offset = 0;
    this.#buffered = 0;
  }

  setLines(lines: SerialLines): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError("setLines"));
    this.module.setLines(lines);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.#closedError("read"));
    }
    this.discardInput();
    this.module.detach(this);
    return Promise.resolve();
  }

  /** Called by the module when reply bytes have arrived. */
  deliver(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
    while (this.#waiters.length > 0 && this.#buffered >= this.#waiters[0]!.length) {
      const waiter = this.#waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#take(waiter.length));
    }
  }

  #take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const chunk = this.#chunks[0]!;
      const n = Math.min(length - done, chunk.length - this.#offset);
      out.set(chunk.subarray(this.#offset, this.#offset + n), done);
      done += n;
      this.#offset += n;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#buffered -= length;
    this.stats.bytesRead += length;
    return out;
  }

  #closedError(what: string): TransportError {
    return new TransportError("closed", `${this.description}: ${what} after close`, {
      port: this.description,
    });
  }
}
