/**
 * The USART wire model (docs/protocol.md §2.1, §5.3): 8E1 framing, 11 bit times a byte in each
 * direction, whatever framing the pseudo-terminal really uses. A virtual clock on the
 * performance.now() scale gives every byte an absolute completion time:
 * - a received byte completes at max(its arrival, the previous byte's completion) + 11/baud;
 * - a sent byte starts no earlier than the device produced it and after the previous sent byte.
 * Replies are handed over as one chunk when their last byte has completed.
 */
import { clockNow, DeadlineQueue } from "./scheduler.js";

export const BITS_PER_BYTE = 11;

/** Milliseconds one byte takes on the wire at `baud`. */
export function byteTimeMs(baud: number): number {
  return (BITS_PER_BYTE * 1000) / baud;
}

interface RxSegment {
  bytes: Uint8Array;
  pos: number;
  /** Completion time of bytes[0]. */
  t0: number;
}

/** Received bytes waiting for the device, with their completion times. */
export class RxBuffer {
  readonly #segments: RxSegment[] = [];
  #length = 0;

  constructor(readonly byteMs: number) {}

  get length(): number {
    return this.#length;
  }

  /** Adds bytes whose first byte completed at `t0` (the others follow at byte-time spacing). */
  push(bytes: Uint8Array, t0: number): void {
    if (bytes.length === 0) return;
    this.#segments.push({ bytes, pos: 0, t0 });
    this.#length += bytes.length;
  }

  /** Completion time of the next byte, or undefined when empty. */
  nextTime(): number | undefined {
    const s = this.#segments[0];
    return s ? s.t0 + s.pos * this.byteMs : undefined;
  }

  /** Takes `n` bytes (n ≤ length) and the completion time of the last one. */
  take(n: number): { bytes: Uint8Array; doneAt: number } {
    const out = new Uint8Array(n);
    let done = 0;
    let doneAt = 0;
    while (done < n) {
      const s = this.#segments[0]!;
      const k = Math.min(n - done, s.bytes.length - s.pos);
      out.set(s.bytes.subarray(s.pos, s.pos + k), done);
      s.pos += k;
      done += k;
      doneAt = s.t0 + (s.pos - 1) * this.byteMs;
      if (s.pos === s.bytes.length) this.#segments.shift();
    }
    this.#length -= n;
    return { bytes: out, doneAt };
  }

  /** Drops the bytes that completed before `t` (the device was resetting or busy being off). */
  dropBefore(t: number): void {
    while (this.#length > 0 && this.nextTime()! < t) this.take(1);
  }

  clear(): void {
    this.#segments.length = 0;
    this.#length = 0;
  }
}

interface TxChunk {
  bytes: Uint8Array;
  /** Start time of bytes[0] on the wire. */
  start: number;
}

/** The device's TX line: serialises replies and hands each to `output` when its last byte is done. */
export class TxLine {
  #free = 0;
  readonly #queue: DeadlineQueue<TxChunk>;

  constructor(
    readonly byteMs: number,
    readonly output: (bytes: Uint8Array) => void,
  ) {
    this.#queue = new DeadlineQueue((chunk) => output(chunk.bytes));
  }

  /** Nothing queued: every reply so far has been handed over. */
  get idle(): boolean {
    return this.#queue.size === 0;
  }

  /** Time the line is free again. */
  get freeAt(): number {
    return this.#free;
  }

  /**
   * Queues `bytes`, produced by the device at `readyAt` and taking `wireLength` byte times (more than
   * bytes.length when a fault dropped some). Returns the completion time of the last byte.
   * With a zero byte time (timing off) and nothing queued the bytes go out at once.
   */
  send(bytes: Uint8Array, readyAt: number, wireLength = bytes.length): number {
    const start = Math.max(readyAt, this.#free);
    const end = start + wireLength * this.byteMs;
    this.#free = end;
    if (this.byteMs === 0 && this.#queue.size === 0) this.output(bytes);
    else this.#queue.push(end, { bytes, start });
    return end;
  }

  /**
   * Power cut at `t`: bytes that had not completed by then never arrive. A chunk on the wire at `t`
   * is cut to its completed bytes. Returns the number of bytes taken back.
   */
  cut(t: number): number {
    let lost = 0;
    const partial: TxChunk[] = [];
    const removed = this.#queue.remove((end) => end > t);
    for (const { item } of removed) {
      const keep = this.byteMs > 0 ? Math.max(0, Math.floor((t - item.start) / this.byteMs + 1e-9)) : 0;
      lost += item.bytes.length - Math.min(keep, item.bytes.length);
      if (keep > 0 && keep < item.bytes.length)
        partial.push({ bytes: item.bytes.subarray(0, keep), start: item.start });
    }
    for (const chunk of partial) this.#queue.push(chunk.start + chunk.bytes.length * this.byteMs, chunk);
    this.#free = Math.min(this.#free, Math.max(t, clockNow()));
    return lost;
  }

  clear(): void {
    this.#queue.clear();
    this.#free = 0;
  }
}
