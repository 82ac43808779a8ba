/**
 * The engine's "kill switch" for crash tests: once halted, every journal or state write and every
 * device action waits forever, as if the process had been SIGKILLed at that instant (the OS would
 * also close its ports, which `onHalt` listeners do). Production code never halts; the gate is a
 * no-op pass-through there.
 */
export class HaltGate {
  #halted = false;
  readonly #listeners = new Set<() => void>();

  get halted(): boolean {
    return this.#halted;
  }

  halt(): void {
    if (this.#halted) return;
    this.#halted = true;
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }

  /** Runs `fn` unless halted; when halted, returns a promise that never settles. */
  async pass<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#halted) return never<T>();
    const result = await fn();
    if (this.#halted) return never<T>();
    return result;
  }

  /** Resolves at once unless halted; never when halted (a commit point of a write in flight). */
  readonly commitPoint = (): Promise<void> => (this.#halted ? never<void>() : Promise.resolve());

  /** Registers cleanup that a killed process would get from the OS (closing ports). */
  onHalt(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}
