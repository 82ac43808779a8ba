/**
 * The reserved space of the state directory (issue 10, defect 2): `reserve.bin`, a file of
 * `storage.reserveBytes` zeros written (not sparse) at start-up and before each run. When the state
 * file system fills up in the middle of a run, the run deletes it, and the space it held lets the
 * journal and state writes of the undo succeed: a full disk fails the bundle cleanly instead of
 * leaving it half applied. It is written again once space returns (a timer, and before every run).
 */
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.js";
import type { HaltGate } from "../run/halt.js";

export const RESERVE_FILE = "reserve.bin";
export const DEFAULT_RESERVE_BYTES = 1024 * 1024;

export class SpaceReserve {
  readonly path: string;
  readonly bytes: number;
  readonly #gate: HaltGate;
  /** The write in progress, shared by every caller meanwhile. */
  #ensuring: Promise<void> | null = null;

  constructor(stateDir: string, bytes: number, gate: HaltGate) {
    this.path = join(stateDir, RESERVE_FILE);
    this.bytes = bytes;
    this.#gate = gate;
  }

  /** Whether the reserve is on disk at its full size (always true when the reserve is off). */
  async present(): Promise<boolean> {
    if (this.bytes === 0) return true;
    try {
      return (await stat(this.path)).size === this.bytes;
    } catch {
      return false;
    }
  }

  /**
   * Makes sure the reserve is on disk. Throws the file system's error (ENOSPC, EROFS…) when it cannot
   * be written; a partial reserve is never left behind (writeFileAtomic removes its temporary file).
   */
  ensure(): Promise<void> {
    // One write at a time: the re-creation timer and a bundle's intake both call this, and two
    // concurrent writes would each put `bytes` on a disk that has room for one, so the second (or the
    // intake's own journal write beside them) failed with ENOSPC although the reserve fitted.
    this.#ensuring ??= this.#write().finally(() => (this.#ensuring = null));
    return this.#ensuring;
  }

  async #write(): Promise<void> {
    if (await this.present()) return;
    await this.#gate.pass(() =>
      writeFileAtomic(this.path, new Uint8Array(this.bytes), this.#gate.commitPoint),
    );
  }

  /** Frees the reserved space for the writes of an undo. Resolves false when there was nothing to free. */
  async release(): Promise<boolean> {
    if (this.bytes === 0 || !(await this.present())) return false;
    try {
      await rm(this.path, { force: true });
      return true;
    } catch {
      return false; // read-only: nothing to gain
    }
  }
}
