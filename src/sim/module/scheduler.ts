/**
 * Delivery at absolute times on the performance.now() clock, never early and with as little lateness
 * as the event loop allows. One timer at a time for the earliest item: no per-byte timers, no drift
 * (each target is an absolute time, not a delay added to the previous one).
 *
 * Node timers have millisecond granularity and fire up to ~2 ms early (libuv's cached loop time), so a
 * timer only brings us close; the last stretch is polled with setImmediate (a fraction of a ms of
 * polling per reply, which keeps the modelled reply times within a few tens of µs).
 */
import { performance } from "node:perf_hooks";

/** Polling takes over when the target is this close (ms). */
const POLL_WINDOW_MS = 1.5;

export const clockNow = (): number => performance.now();

export class DeadlineQueue<T> {
  readonly #items: Array<{ at: number; item: T }> = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  constructor(readonly deliver: (item: T) => void) {}

  get size(): number {
    return this.#items.length;
  }

  /** Queues `item` for time `at`; items keep time order (equal times: insertion order). */
  push(at: number, item: T): void {
    let i = this.#items.length;
    while (i > 0 && this.#items[i - 1]!.at > at) i--;
    this.#items.splice(i, 0, { at, item });
    if (i === 0) this.#rearm();
  }

  /** Removes and returns the items for which `drop` says so (power cut, close). */
  remove(drop: (at: number, item: T) => boolean): Array<{ at: number; item: T }> {
    const removed: Array<{ at: number; item: T }> = [];
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const entry = this.#items[i]!;
      if (drop(entry.at, entry.item)) removed.unshift(...this.#items.splice(i, 1));
    }
    this.#rearm();
    return removed;
  }

  clear(): void {
    this.#items.length = 0;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #rearm(): void {
    this.#disarm();
    const head = this.#items[0];
    if (!head) return;
    const wait = head.at - clockNow();
    if (wait > POLL_WINDOW_MS) this.#timer = setTimeout(this.#fire, wait - POLL_WINDOW_MS + 0.5);
    else this.#immediate = setImmediate(this.#fire);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    const now = clockNow();
    while (this.#items.length > 0 && this.#items[0]!.at <= now) this.deliver(this.#items.shift()!.item);
    if (!this.#timer && !this.#immediate) this.#rearm();
  };
}
