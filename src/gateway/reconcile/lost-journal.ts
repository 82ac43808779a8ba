/**
 * A journal deleted during or between the runs of a bundle (issue 10, defect 8): the natural
 * reaction to a `state-corrupt` refusal is `rm journal.json`, which takes away the one record of
 * which modules an interrupted run had changed. state.json still tells: a bundle whose sequence was
 * accepted (`lastSequence`) but never booked as finished (`lastBundle`), and the modules it had
 * committed (their confirmed firmware carries that sequence, their previous one what they ran
 * before). Those modules are put back on their previous firmware in state.json, the bundle is booked
 * as failed with `journal-lost`, and start-up reconciliation then brings every module onto what
 * state.json records (repaired from the image store with `repair: auto`, each mismatch named
 * otherwise), so an all-or-nothing bundle never stays half applied. A bundle is undone even when
 * its run had in fact finished just before the kill: without the journal that cannot be told.
 */
import type { Logger } from "../../util/logger.js";
import type { StateStore } from "../store/state-store.js";
import type { StatusError } from "../status/types.js";

export interface LostRun {
  release: string | null;
  sequence: number;
  /** Modules put back on their previous firmware in state.json. */
  rewound: string[];
  error: StatusError;
}

/** Rewinds state.json when the journal is gone and a bundle was never booked; null when nothing was open. */
export async function rewindLostRun(
  state: StateStore,
  journalPath: string,
  now: number,
  log: Logger,
): Promise<LostRun | null> {
  const current = state.get();
  const sequence = current.lastSequence;
  if (!state.existed || sequence === 0 || sequence <= (current.lastBundle?.sequence ?? 0)) return null;
  const rewound = Object.entries(current.modules)
    .filter(([, record]) => record.confirmed?.sequence === sequence && record.previous !== null)
    .map(([id]) => id);
  const release =
    Object.values(current.modules).find((r) => r.confirmed?.sequence === sequence)?.confirmed?.release ??
    null;
  const error: StatusError = {
    code: "journal-lost",
    message: `${journalPath} is missing, but bundle ${release ?? "?"} (sequence ${sequence}) was accepted and never finished: ${
      rewound.length > 0
        ? `modules ${rewound.join(", ")} are put back on their previous firmware`
        : "no module had committed it"
    }, and every module is checked against state.json`,
    context: { file: journalPath, sequence, release, modules: rewound },
  };
  const at = new Date(now).toISOString();
  await state.update((draft) => {
    for (const id of rewound) {
      const record = draft.modules[id]!;
      // What it ran before the lost run is no longer known: nothing to roll back to after this.
      draft.modules[id] = { confirmed: record.previous, previous: null };
    }
    draft.lastBundle = {
      runId: "journal-lost",
      release,
      sequence,
      state: "failed",
      error,
      startedAt: at,
      finishedAt: at,
    };
  });
  log.error({ ...error.context }, error.message);
  return { release, sequence, rewound, error };
}
