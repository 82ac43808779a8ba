/**
 * Persistent gateway state (state.json in the state directory, atomic writes): per module the
 * confirmed and previous firmware, the security floors per module type, and the last accepted
 * sequence numbers of manifests and of commands (kept apart: they are separate counters).
 */
import { join } from "node:path";
import { ensureDirectory, readJsonFile, removeStaleTemporaries, writeFileAtomic } from "./atomic-file.js";
import { GatewayError } from "../errors.js";
import type { HaltGate } from "../run/halt.js";
import type { InstalledImage } from "../run/types.js";
import type { BundleState, StatusError } from "../status/types.js";
import { SerialQueue } from "../../util/serial-queue.js";
import type { AttemptBook } from "../intake/quarantine.js";
import { floorDifferences, floorsOf, highestFloors, type FloorsFile, type StateAlert } from "./floors.js";

export const STATE_FILE = "state.json";

export interface ModuleRecord {
  /** What the module boots and the gateway has confirmed. Null: unknown (never updated by this gateway). */
  confirmed: InstalledImage | null;
  /** What it ran before, kept for rollback. */
  previous: InstalledImage | null;
}

export interface LastBundle {
  runId: string;
  release: string | null;
  sequence: number | null;
  state: BundleState;
  error: StatusError | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface StoredState {
  format: 1;
  /** Highest manifest sequence accepted (replays and older manifests are refused). */
  lastSequence: number;
  /** Highest command sequence accepted. */
  lastCommandSequence: number;
  /** Anti-rollback floor per module type: no image with a lower security version is installed. */
  securityFloors: Record<string, number>;
  modules: Record<string, ModuleRecord>;
  lastBundle: LastBundle | null;
  /** The last run whose end was booked (floors raised, last bundle recorded); a restart completes it otherwise. */
  lastRunId: string | null;
  /**
   * How many times the floors changed; floors.json carries the same count (store/floors.ts). Absent
   * in a state file written before the floors had a second copy.
   */
  floorsGeneration?: number;
  /** Bundles are refused until an operator acknowledges this (state-lost, state-disagrees). */
  stateAlert?: StateAlert | null;
  /** Failed attempts of the latest bundle, its back-off and quarantine (intake/quarantine.ts). */
  attempts?: AttemptBook | null;
}

export function emptyState(): StoredState {
  return {
    format: 1,
    lastSequence: 0,
    lastCommandSequence: 0,
    securityFloors: {},
    modules: {},
    lastBundle: null,
    lastRunId: null,
  };
}

export class StateStore {
  readonly path: string;
  readonly #gate: HaltGate;
  #state: StoredState;
  readonly #queue = new SerialQueue();
  #floorsFile: FloorsFile | null = null;
  #forceMirror = false;

  /** Whether state.json existed at open (a gateway with history but no state file has lost it). */
  readonly existed: boolean;

  private constructor(path: string, gate: HaltGate, state: StoredState, existed: boolean) {
    this.path = path;
    this.existed = existed;
    this.#gate = gate;
    this.#state = state;
  }

  static async open(stateDir: string, gate: HaltGate): Promise<StateStore> {
    await ensureDirectory(stateDir);
    const path = join(stateDir, STATE_FILE);
    let raw: unknown;
    try {
      raw = await readJsonFile(path);
    } catch (error) {
      // An empty file is what a full disk or a power cut on a file system without atomic rename leaves.
      const reason =
        error instanceof SyntaxError && /end of JSON input/.test(error.message)
          ? "the file is empty or cut short"
          : (error as Error).message;
      throw new GatewayError(
        "state-corrupt",
        `cannot read the state file ${path}: ${reason}`,
        { file: path },
        { cause: error },
      );
    }
    await removeStaleTemporaries(path);
    const problems = raw === undefined ? [] : stateProblems(raw);
    if (problems.length > 0)
      throw new GatewayError(
        "state-corrupt",
        `${path} is not a subflash state file: ${problems.join("; ")}`,
        { file: path, fields: problems },
      );
    return new StateStore(
      path,
      gate,
      raw === undefined ? emptyState() : { ...emptyState(), ...(raw as Partial<StoredState>) },
      raw !== undefined,
    );
  }

  /** The current state (read-only view; change it through update()). */
  get(): Readonly<StoredState> {
    return this.#state;
  }

  module(id: string): ModuleRecord {
    return this.#state.modules[id] ?? { confirmed: null, previous: null };
  }

  /** Applies `change` to a copy and makes it durable; the in-memory state moves only once it is on disk. */
  update(change: (draft: StoredState) => void): Promise<void> {
    return this.#queue.run(() =>
      this.#gate.pass(async () => {
        const draft = structuredClone(this.#state);
        change(draft);
        await this.#mirror(draft);
        await writeFileAtomic(this.path, JSON.stringify(draft, null, 1), this.#gate.commitPoint);
        this.#state = draft;
      }),
    );
  }

  /** From now on every change of the floors or the alert is written to `file` first (floors.ts). */
  attachFloorsFile(file: FloorsFile): void {
    this.#floorsFile = file;
  }

  /** Writes both copies now, whether or not anything changed (a first floors file, a repair). */
  rewriteBoth(change: (draft: StoredState) => void = () => {}): Promise<void> {
    this.#forceMirror = true;
    return this.update(change).finally(() => (this.#forceMirror = false));
  }

  /**
   * Floors never go down, whatever a change says; when they or the alert change, floors.json gets
   * them first, one generation on, so that a kill between the two writes leaves it ahead, never behind.
   */
  async #mirror(draft: StoredState): Promise<void> {
    const before = this.#state;
    const raised = highestFloors(floorsOf(before), floorsOf(draft));
    Object.assign(draft, raised);
    const alert = draft.stateAlert ?? null;
    const changed =
      floorDifferences(floorsOf(before), raised, ["before", "after"]).length > 0 ||
      JSON.stringify(alert) !== JSON.stringify(before.stateAlert ?? null);
    if (!this.#floorsFile || !(changed || this.#forceMirror)) return;
    draft.floorsGeneration = (before.floorsGeneration ?? 0) + 1;
    await this.#floorsFile.write(draft.floorsGeneration, raised, alert);
  }
}

/** What is wrong with a parsed state file, field by field (empty when it is usable). */
function stateProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return ["(root): expected an object"];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.format !== 1) problems.push(`format: expected 1, got ${JSON.stringify(v.format)}`);
  for (const field of ["lastSequence", "lastCommandSequence"]) {
    const n = v[field];
    if (n !== undefined && !(typeof n === "number" && Number.isSafeInteger(n) && n >= 0))
      problems.push(`${field}: expected a whole number ≥ 0, got ${JSON.stringify(n)}`);
  }
  if (typeof v.lastSequence !== "number" && !problems.some((p) => p.startsWith("lastSequence")))
    problems.push("lastSequence: missing");
  if (typeof v.modules !== "object" || v.modules === null) problems.push("modules: expected an object");
  if (v.securityFloors !== undefined) {
    const floors = v.securityFloors;
    if (typeof floors !== "object" || floors === null) problems.push("securityFloors: expected an object");
    else
      for (const [type, floor] of Object.entries(floors))
        if (typeof floor !== "number" || !Number.isSafeInteger(floor) || floor < 0)
          problems.push(`securityFloors.${type}: expected a whole number ≥ 0, got ${JSON.stringify(floor)}`);
  }
  return problems;
}
