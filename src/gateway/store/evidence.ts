/**
 * At start-up: what the gateway's records say about the anti-replay floors, and whether they agree
 * (issue 10, defect 3). Evidence: state.json, floors.json (floors.ts), the journal's last run (its
 * sequence; the security versions it committed) and the image store (images mean history). The
 * floors used are always the HIGHEST any evidence shows. When a copy is missing, damaged or behind
 * on a gateway that has history, the result carries an alert: bundles are refused until an operator
 * acknowledges (`daemon --accept-state-loss` or a signed `acknowledge-state` command).
 */
import type { RunRecord } from "../run/types.js";
import {
  emptyFloors,
  floorDifferences,
  floorsOf,
  highestFloors,
  type Floors,
  type FloorsRead,
  type StateAlert,
} from "./floors.js";
import type { StoredState } from "./state-store.js";

export interface Evidence {
  /** state.json as read, or null when it did not exist. */
  state: Readonly<StoredState> | null;
  statePath: string;
  floors: FloorsRead;
  floorsPath: string;
  /** The journal's last run, if any. */
  lastRun: RunRecord | null;
  /** Whether the image store holds any image. */
  imagesHeld: boolean;
  now: string;
}

export interface Assessment {
  /** The highest floors any evidence shows. */
  floors: Floors;
  /** Why bundles must be refused until acknowledged (an alert carried over from before included). */
  alert: StateAlert | null;
  /** Write both copies now (a first floors file, raised values, a new alert). */
  rewrite: boolean;
  /** What was decided, for the log. */
  notes: string[];
}

export function assessEvidence(e: Evidence): Assessment {
  const notes: string[] = [];
  const journal = journalFloors(e.lastRun);
  const fromState = e.state ? floorsOf(e.state) : emptyFloors();
  const document = e.floors.kind === "present" ? e.floors.document : null;
  const floors = highestFloors(fromState, document?.floors ?? emptyFloors(), journal);
  const history = e.state !== null || e.floors.kind !== "missing" || e.lastRun !== null || e.imagesHeld;
  const carried = e.state?.stateAlert ?? document?.alert ?? null;
  const alert = (code: StateAlert["code"], message: string, context: Record<string, unknown>): StateAlert =>
    carried ?? { code, message, since: e.now, context };
  const stateGeneration = e.state?.floorsGeneration;

  if (!history) return { floors, alert: null, rewrite: true, notes: ["a new gateway: both copies written"] };
  if (e.state === null) {
    const run = e.lastRun;
    const said = run
      ? `the journal records run ${run.id} (${run.release ?? "rollback"}, sequence ${run.sequence ?? "none"})`
      : e.floors.kind === "present"
        ? `${e.floorsPath} records sequence ${floors.lastSequence}`
        : "the image store holds images";
    return {
      floors,
      alert: alert(
        "state-lost",
        `${e.statePath} is missing but ${said}: bundles are refused until an operator acknowledges (daemon --accept-state-loss, or a signed acknowledge-state command)`,
        { file: e.statePath, journalSequence: run?.sequence ?? null, floors: floors.lastSequence },
      ),
      rewrite: true,
      notes,
    };
  }
  if (e.floors.kind === "missing" && stateGeneration === undefined) {
    // A state file from before the floors had a second copy: this is the upgrade, not a loss.
    notes.push(`first ${e.floorsPath} written from ${e.statePath}`);
    return { floors, alert: carried, rewrite: true, notes };
  }
  if (e.floors.kind !== "present") {
    const why = e.floors.kind === "missing" ? "is missing" : `is damaged (${e.floors.reason})`;
    return {
      floors,
      alert: alert(
        "state-disagrees",
        `${e.floorsPath} ${why} although ${e.statePath} records floors generation ${stateGeneration ?? "?"}: the higher values are kept and bundles are refused until an operator acknowledges`,
        { file: e.floorsPath, generation: stateGeneration ?? null },
      ),
      rewrite: true,
      notes,
    };
  }
  const doc = document!;
  const differences = floorDifferences(fromState, doc.floors, ["state.json", "floors.json"]);
  const generationSteps = doc.generation - (stateGeneration ?? 0);
  const kindBehind =
    floorDifferences(highestFloors(fromState, doc.floors), doc.floors, ["", ""]).length === 0;
  if (differences.length > 0 || generationSteps !== 0) {
    // Written first, floors.json is one generation ahead when a kill came between the two writes.
    if (generationSteps === 1 && kindBehind) {
      notes.push(`${e.statePath} was one write behind ${e.floorsPath} (a kill between them): raised`);
      return { floors, alert: carried, rewrite: true, notes };
    }
    return {
      floors,
      alert: alert(
        "state-disagrees",
        `${e.statePath} (generation ${stateGeneration ?? "none"}) and ${e.floorsPath} (generation ${doc.generation}) disagree${differences.length > 0 ? ` (${differences.join("; ")})` : ""}: the higher values are kept and bundles are refused until an operator acknowledges`,
        { files: [e.statePath, e.floorsPath], differences },
      ),
      rewrite: true,
      notes,
    };
  }
  const behind = floorDifferences(fromState, floors, ["records", "journal"]);
  if (behind.length > 0) {
    // The journal is written before state.json: a kill between them leaves it ahead. Raise, no alarm.
    notes.push(`raised from the journal's last run: ${behind.join("; ")}`);
    return { floors, alert: carried, rewrite: true, notes };
  }
  return { floors, alert: carried, rewrite: false, notes };
}

/** What the journal's last run proves: its sequence was accepted; its committed installs set floors. */
function journalFloors(run: RunRecord | null): Floors {
  const out = emptyFloors();
  if (!run) return out;
  if (run.kind !== "rollback") out.lastSequence = run.sequence ?? 0;
  // Floors rise at a run's end (run/run-end.ts); an unfinished run may still undo a commit.
  if (run.state !== "finished") return out;
  for (const job of run.jobs) {
    if (job.kind !== "install" || job.step !== "committed") continue;
    out.securityFloors[job.moduleType] = Math.max(
      out.securityFloors[job.moduleType] ?? 0,
      job.target.securityVersion,
    );
  }
  return out;
}
