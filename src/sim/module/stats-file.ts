/**
 * Writes the simulator's statistics as JSON for an outside reader (the flash benchmark reads it to
 * compute the modelled lower bound of a run). Each write replaces the file atomically (write to a
 * temporary file, rename), so a reader never sees half a file.
 *
 * Cost: on ext4 a write + rename takes ~200 µs, too much to do synchronously after every command of
 * a timed run. `request()` therefore writes asynchronously (libuv's thread pool), coalescing requests
 * that arrive while a write is in flight; the file trails the last command by well under a
 * millisecond, long before a host process that got its last reply has even exited. `writeSync()` is
 * for exit paths.
 */
import { renameSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";

export class StatsFileWriter {
  readonly #tmp: string;
  #pending: (() => object) | undefined;
  #running: Promise<void> | undefined;
  /** The last write error, if any (writing statistics never stops the simulator). */
  lastError: unknown;

  constructor(readonly path: string) {
    this.#tmp = `${path}.${process.pid}.tmp`;
  }

  /** Writes `snapshot()` soon; requests made while a write is in flight are merged into one more write. */
  request(snapshot: () => object): void {
    this.#pending = snapshot;
    this.#running ??= this.#drainLoop();
  }

  /** Resolves when no write is pending or in flight. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  writeSync(snapshot: object): void {
    writeFileSync(this.#tmp, `${JSON.stringify(snapshot)}\n`);
    renameSync(this.#tmp, this.path);
  }

  async #drainLoop(): Promise<void> {
    try {
      while (this.#pending) {
        const snapshot = this.#pending();
        this.#pending = undefined;
        await writeFile(this.#tmp, `${JSON.stringify(snapshot)}\n`);
        await rename(this.#tmp, this.path);
      }
    } catch (error) {
      this.lastError = error;
      this.#pending = undefined;
    } finally {
      this.#running = undefined;
    }
  }
}
