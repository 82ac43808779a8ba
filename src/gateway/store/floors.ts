/**
 * The anti-replay floors kept a second time (issue 10, defect 3): the last accepted manifest and
 * command sequences and the security floors, in `floors.json` in `state.mirrorDir` (default: the
 * state directory), written atomically on its own and checksummed. state.json holds the same values;
 * losing, corrupting or rolling back one of the two can then no longer lower them silently.
 *
 * Each change of the floors bumps a generation counter kept in both files. The floors file is
 * written first, so the one benign difference a kill can leave is "floors.json one generation ahead
 * of state.json, with values at or above it" (evidence.ts tells it from a rolled-back state.json).
 */
import { join } from "node:path";
import { sha256, toHex } from "../../signing/index.js";
import { ensureDirectory, readJsonFile, removeStaleTemporaries, writeFileAtomic } from "./atomic-file.js";
import type { HaltGate } from "../run/halt.js";
import type { StatusError } from "../status/types.js";

export const FLOORS_FILE = "floors.json";

/** What must never go down. */
export interface Floors {
  lastSequence: number;
  lastCommandSequence: number;
  securityFloors: Record<string, number>;
}

/**
 * Why bundles are refused until an operator acknowledges (`state-lost`, `state-disagrees`). Kept in
 * both copies, so that a restart does not lift it.
 */
export interface StateAlert extends StatusError {
  code: "state-lost" | "state-disagrees";
  since: string;
}

export interface FloorsDocument {
  format: 1;
  generation: number;
  floors: Floors;
  alert: StateAlert | null;
  /** SHA-256 (hex) over the fields above in a fixed order: a damaged or hand-edited file is told apart. */
  sha256: string;
}

export type FloorsRead =
  { kind: "present"; document: FloorsDocument } | { kind: "missing" } | { kind: "corrupt"; reason: string };

export function emptyFloors(): Floors {
  return { lastSequence: 0, lastCommandSequence: 0, securityFloors: {} };
}

export function floorsOf(value: Floors): Floors {
  return {
    lastSequence: value.lastSequence,
    lastCommandSequence: value.lastCommandSequence,
    securityFloors: { ...value.securityFloors },
  };
}

/** The higher of each value: evidence only ever raises the floors. */
export function highestFloors(...all: Floors[]): Floors {
  const out = emptyFloors();
  for (const f of all) {
    out.lastSequence = Math.max(out.lastSequence, f.lastSequence);
    out.lastCommandSequence = Math.max(out.lastCommandSequence, f.lastCommandSequence);
    for (const [type, floor] of Object.entries(f.securityFloors))
      out.securityFloors[type] = Math.max(out.securityFloors[type] ?? 0, floor);
  }
  return out;
}

/** Where `a` and `b` differ, as "field: a vs b" lines (empty: they agree). */
export function floorDifferences(a: Floors, b: Floors, names: [string, string]): string[] {
  const out: string[] = [];
  const say = (field: string, x: number, y: number): void => {
    if (x !== y) out.push(`${field}: ${names[0]} ${x}, ${names[1]} ${y}`);
  };
  say("lastSequence", a.lastSequence, b.lastSequence);
  say("lastCommandSequence", a.lastCommandSequence, b.lastCommandSequence);
  const types = new Set([...Object.keys(a.securityFloors), ...Object.keys(b.securityFloors)]);
  for (const type of [...types].sort())
    say(`securityFloors.${type}`, a.securityFloors[type] ?? 0, b.securityFloors[type] ?? 0);
  return out;
}

export class FloorsFile {
  readonly path: string;
  readonly #dir: string;
  readonly #gate: HaltGate;

  constructor(dir: string, gate: HaltGate) {
    this.#dir = dir;
    this.path = join(dir, FLOORS_FILE);
    this.#gate = gate;
  }

  async read(): Promise<FloorsRead> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.path);
    } catch (error) {
      return { kind: "corrupt", reason: (error as Error).message };
    }
    if (raw === undefined) return { kind: "missing" };
    await removeStaleTemporaries(this.path);
    const problem = documentProblem(raw);
    return problem
      ? { kind: "corrupt", reason: problem }
      : { kind: "present", document: raw as FloorsDocument };
  }

  /** Writes the floors durably; called inside the state store's gate pass, before state.json. */
  async write(generation: number, floors: Floors, alert: StateAlert | null): Promise<void> {
    await ensureDirectory(this.#dir);
    const document: FloorsDocument = {
      format: 1,
      generation,
      floors: floorsOf(floors),
      alert,
      sha256: digestOf(generation, floors, alert),
    };
    await writeFileAtomic(this.path, JSON.stringify(document, null, 1), this.#gate.commitPoint);
  }
}

function digestOf(generation: number, floors: Floors, alert: StateAlert | null): string {
  const canonical = JSON.stringify([
    1,
    generation,
    floors.lastSequence,
    floors.lastCommandSequence,
    Object.entries(floors.securityFloors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    alert && [alert.code, alert.message, alert.since],
  ]);
  return toHex(sha256(new TextEncoder().encode(canonical)));
}

const wholeNumber = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

function documentProblem(raw: unknown): string | null {
  if (typeof raw !== "object" || raw === null) return "not an object";
  const d = raw as Partial<FloorsDocument>;
  if (d.format !== 1) return `format: expected 1, got ${JSON.stringify(d.format)}`;
  if (!wholeNumber(d.generation)) return "generation: expected a whole number";
  const f = d.floors;
  if (typeof f !== "object" || f === null) return "floors: expected an object";
  if (!wholeNumber(f.lastSequence) || !wholeNumber(f.lastCommandSequence))
    return "floors: sequences must be whole numbers";
  if (typeof f.securityFloors !== "object" || f.securityFloors === null)
    return "floors.securityFloors: expected an object";
  if (!Object.values(f.securityFloors).every(wholeNumber))
    return "floors.securityFloors: every floor must be a whole number";
  const alert = d.alert ?? null;
  if (alert !== null && (typeof alert.code !== "string" || typeof alert.message !== "string"))
    return "alert: expected a code and a message";
  if (d.sha256 !== digestOf(d.generation, f, alert)) return "sha256: the checksum does not match the content";
  return null;
}
