/**
 * Runs async jobs one after another, in the order they were queued: the mutex behind a link's
 * exclusive exchanges, an I2C bus's transactions and the gateway's durable writes. A job that fails
 * rejects its own promise only; the jobs queued after it still run.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(job, job);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
