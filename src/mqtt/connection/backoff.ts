/**
 * Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), so a fleet of
 * gateways that lost the same broker does not come back in lockstep, and a gateway retries quickly
 * after a short blip but does not hammer a broker that is down for long.
 */
export interface BackoffOptions {
  /** First delay, in milliseconds. Default 1000. */
  initialMs?: number;
  /** Ceiling, in milliseconds. Default 30000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.#initialMs = opts.initialMs ?? 1000;
    this.#maxMs = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#random = opts.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs) || !(this.#factor >= 1)) {
      throw new RangeError(
        `backoff needs initialMs > 0, maxMs >= initialMs and factor >= 1 (got ${this.#initialMs}, ${this.#maxMs}, ${this.#factor})`,
      );
    }
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Delay before the next attempt, in milliseconds; each call grows the next one. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** After a successful connection: start again from the initial delay. */
  reset(): void {
    this.#attempt = 0;
  }
}
