/**
 * The receive side of a byte-stream transport: chunks as they arrive, and reads that wait for an exact
 * byte count. It sits on the hot path of flashing (every ACK and every 256-byte read-back goes through
 * it), so it never copies per byte and never polls: a chunk is kept as it arrived, a read that fits in
 * the first chunk is a view of it, a read that spans chunks is one allocation and a few `set()` calls,
 * and a waiting read is resolved from `push()` the moment enough bytes are there.
 *
 * Used by the USART transport; in-process transports (the simulator's) can use it as well.
 */

interface PendingRead {
  length: number;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/** Node clamps longer timers to 1 ms; anything above this is treated as "no timeout". */
const MAX_TIMER_MS = 0x7fffffff;

export class ReceiveQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the first live chunk in #chunks (consumed ones are dropped lazily). */
  #first = 0;
  /** Bytes of #chunks[#first] already consumed. */
  #offset = 0;
  #size = 0;
  #waiting: PendingRead[] = [];
  #failure: Error | undefined;

  /** Bytes received and not yet read. */
  get size(): number {
    return this.#size;
  }

  /** Appends received bytes (kept by reference: the caller must not reuse the buffer) and serves waiting reads. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#failure) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    this.#serve();
  }

  /**
   * Resolves with exactly `length` bytes, in arrival order. Reads are served first come, first
   * served. After `timeoutMs` without enough bytes it rejects with `onTimeout(bytesBuffered)` and leaves
   * the buffered bytes for the next read. The result may be a view of a received chunk: treat it as
   * read-only.
   */
  read(length: number, timeoutMs: number, onTimeout: (buffered: number) => Error): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!Number.isInteger(length) || length < 0)
      return Promise.reject(new RangeError(`read length ${length} is not a non-negative integer`));
    if (this.#waiting.length === 0 && this.#size >= length) return Promise.resolve(this.#take(length));
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: PendingRead = { length, resolve, reject };
      if (Number.isFinite(timeoutMs) && timeoutMs <= MAX_TIMER_MS) {
        pending.timer = setTimeout(
          () => {
            this.#remove(pending);
            reject(onTimeout(this.#size));
            // A later read may now be at the head and satisfiable.
            this.#serve();
          },
          Math.max(0, timeoutMs),
        );
      }
      this.#waiting.push(pending);
    });
  }

  /** Drops every buffered byte; waiting reads keep waiting for new ones. */
  discard(): void {
    this.#chunks = [];
    this.#first = 0;
    this.#offset = 0;
    this.#size = 0;
  }

  /** Rejects every waiting read and every later one with `error`; later pushes are ignored. */
  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.discard();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const pending of waiting) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  #serve(): void {
    while (this.#waiting.length > 0) {
      const head = this.#waiting[0]!;
      if (this.#size < head.length) return;
      this.#waiting.shift();
      clearTimeout(head.timer);
      head.resolve(this.#take(head.length));
    }
  }

  #remove(pending: PendingRead): void {
    const index = this.#waiting.indexOf(pending);
    if (index >= 0) this.#waiting.splice(index, 1);
  }

  /** Removes `length` bytes from the front (the caller checked they are there). */
  #take(length: number): Uint8Array {
    if (length === 0) return new Uint8Array(0);
    this.#size -= length;
    const first = this.#chunks[this.#first]!;
    const available = first.length - this.#offset;
    if (length <= available) {
      const view = first.subarray(this.#offset, this.#offset + length);
      this.#advance(length, available);
      return view;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.#chunks[this.#first]!;
      const left = chunk.length - this.#offset;
      const n = Math.min(left, length - filled);
      out.set(chunk.subarray(this.#offset, this.#offset + n), filled);
      filled += n;
      this.#advance(n, left);
    }
    return out;
  }

  /** Consumes `n` bytes of the first live chunk, which had `left` unread bytes. */
  #advance(n: number, left: number): void {
    if (n < left) {
      this.#offset += n;
      return;
    }
    this.#first++;
    this.#offset = 0;
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#first = 0;
    } else if (this.#first >= 64 && this.#first * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }
}
