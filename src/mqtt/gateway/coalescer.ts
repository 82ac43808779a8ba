/**
 * Rate limiting per key that never loses the latest value: a value is passed on at once when the key
 * has been quiet for `intervalMs` (or when it is urgent, like a state change), otherwise it replaces
 * the pending one and goes out when the interval is over. Progress ticks (hundreds per image) become
 * at most one message per interval per module, and the last tick is never swallowed.
 */
export class Coalescer<T> {
  readonly #intervalMs: number;
  readonly #emit: (key: string, value: T) => void;
  readonly #now: () => number;
  readonly #lastEmit = new Map<string, number>();
  readonly #pending = new Map<string, { value: T; timer: NodeJS.Timeout }>();

  constructor(intervalMs: number, emit: (key: string, value: T) => void, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#emit = emit;
    this.#now = now;
  }

  /** Offers a value; `urgent` values go out at once and replace anything pending for the key. */
  submit(key: string, value: T, urgent = false): void {
    const now = this.#now();
    const last = this.#lastEmit.get(key);
    if (urgent || this.#intervalMs <= 0 || last === undefined || now - last >= this.#intervalMs) {
      this.drop(key);
      this.#send(key, value, now);
      return;
    }
    const pending = this.#pending.get(key);
    if (pending) {
      pending.value = value;
      return;
    }
    const timer = setTimeout(
      () => {
        const entry = this.#pending.get(key);
        this.#pending.delete(key);
        if (entry) this.#send(key, entry.value, this.#now());
      },
      last + this.#intervalMs - now,
    );
    this.#pending.set(key, { value, timer });
  }

  /** Forgets a pending value (e.g. a progress tick that a state change made obsolete). */
  drop(key: string): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
  }

  /** Sends every pending value now (before shutdown). */
  flush(): void {
    for (const [key, { value, timer }] of [...this.#pending]) {
      clearTimeout(timer);
      this.#pending.delete(key);
      this.#send(key, value, this.#now());
    }
  }

  /** Cancels every pending value without sending it. */
  dispose(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }

  #send(key: string, value: T, now: number): void {
    this.#lastEmit.set(key, now);
    this.#emit(key, value);
  }
}
