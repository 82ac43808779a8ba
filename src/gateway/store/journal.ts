/**
 * The run journal (design decision 6): the current run, rewritten atomically (temporary file, fsync,
 * rename, directory fsync) BEFORE each step acts. After a crash the engine reads it back and knows,
 * for every module, which step was about to run, so it can resume or roll back (engine.ts, recovery.ts).
 * Writes are serialised; each gets a running count, which tests use to "kill" the engine after write N.
 */
import { join } from "node:path";
import { readJsonFile, removeStaleTemporaries, writeFileAtomic } from "./atomic-file.js";
import { GatewayError } from "../errors.js";
import type { HaltGate } from "../run/halt.js";
import type { RunRecord } from "../run/types.js";
import { SerialQueue } from "../../util/serial-queue.js";

export const JOURNAL_FILE = "journal.json";

/** Called after each durable journal write (tests halt the engine here to simulate a crash). */
export type JournalHook = (info: { count: number; what: string; run: RunRecord }) => void | Promise<void>;

export class Journal {
  readonly path: string;
  readonly #gate: HaltGate;
  readonly #hook: JournalHook | undefined;
  readonly #queue = new SerialQueue();
  #count = 0;

  constructor(stateDir: string, gate: HaltGate, hook?: JournalHook) {
    this.path = join(stateDir, JOURNAL_FILE);
    this.#gate = gate;
    this.#hook = hook;
  }

  /** Number of journal writes so far by this instance. */
  get writes(): number {
    return this.#count;
  }

  /** The run last written, or null when there has been none. Throws "state-corrupt" on a bad file. */
  async load(): Promise<RunRecord | null> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.path);
    } catch (error) {
      throw new GatewayError(
        "state-corrupt",
        `cannot read the journal ${this.path}: ${(error as Error).message}`,
        { file: this.path },
        { cause: error },
      );
    }
    await removeStaleTemporaries(this.path);
    if (raw === undefined) return null;
    if (!isRunRecord(raw))
      throw new GatewayError("state-corrupt", `the journal ${this.path} is not a subflash run record`, {
        file: this.path,
      });
    return raw;
  }

  /**
   * Durably records `run` (a snapshot is taken now, so later mutation does not leak in). `what` names
   * the step about to act, for the hook and logs. Resolves once the write is on disk.
   */
  write(run: RunRecord, what: string): Promise<void> {
    const snapshot = JSON.stringify(run, null, 1);
    // Queued, so later writes still run (and fail on their own) after a failed one.
    return this.#queue.run(() =>
      this.#gate.pass(async () => {
        await writeFileAtomic(this.path, snapshot, this.#gate.commitPoint);
        this.#count++;
        await this.#hook?.({ count: this.#count, what, run: JSON.parse(snapshot) as RunRecord });
      }),
    );
  }
}

function isRunRecord(value: unknown): value is RunRecord {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<RunRecord>;
  return v.format === 1 && typeof v.id === "string" && Array.isArray(v.jobs) && typeof v.state === "string";
}
