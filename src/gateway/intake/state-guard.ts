/**
 * The intake's guard against lost or disagreeing state (issue 10, defect 3): at start it weighs the
 * evidence (store/evidence.ts), makes both copies of the floors carry the highest values, and keeps
 * the alert that refuses bundles until an operator acknowledges, by the explicit CLI step
 * (`daemon --accept-state-loss`) or by a signed `acknowledge-state` command. The alert is stored in
 * both copies, so a restart does not lift it; only an acknowledgement does.
 */
import { readdir } from "node:fs/promises";
import type { Logger } from "../../util/logger.js";
import { assessEvidence } from "../store/evidence.js";
import type { FloorsFile, StateAlert } from "../store/floors.js";
import type { StateStore } from "../store/state-store.js";
import type { RunRecord } from "../run/types.js";

export interface GuardContext {
  state: StateStore;
  floorsFile: FloorsFile;
  lastRun: RunRecord | null;
  /** The image store's directory of complete images. */
  imagesDir: string;
  /** The operator started the daemon with --accept-state-loss. */
  acknowledged: boolean;
  log: Logger;
  now(): number;
}

/** Settles the floors at start; resolves with the alert that must refuse bundles, or null. */
export async function guardState(ctx: GuardContext): Promise<StateAlert | null> {
  const { state, floorsFile } = ctx;
  const floors = await floorsFile.read();
  state.attachFloorsFile(floorsFile);
  const images = await readdir(ctx.imagesDir).catch(() => [] as string[]);
  const assessment = assessEvidence({
    state: state.existed ? state.get() : null,
    statePath: state.path,
    floors,
    floorsPath: floorsFile.path,
    lastRun: ctx.lastRun,
    imagesHeld: images.length > 0,
    now: new Date(ctx.now()).toISOString(),
  });
  for (const note of assessment.notes) ctx.log.info({ floors: assessment.floors }, note);
  let alert = assessment.alert;
  if (alert && ctx.acknowledged) {
    ctx.log.warn(
      { code: alert.code, floors: assessment.floors },
      `state alert acknowledged at start (--accept-state-loss): ${alert.message}`,
    );
    alert = null;
  } else if (alert) {
    ctx.log.error({ code: alert.code, ...alert.context }, alert.message);
  }
  const changed = JSON.stringify(alert) !== JSON.stringify(state.get().stateAlert ?? null);
  if (assessment.rewrite || changed)
    await state.rewriteBoth((draft) => {
      Object.assign(draft, assessment.floors);
      draft.stateAlert = alert;
    });
  return alert;
}

/** The operator's acknowledgement: the floors stay as they are (the highest), the refusal ends. */
export async function acknowledgeState(state: StateStore): Promise<void> {
  await state.rewriteBoth((draft) => {
    draft.stateAlert = null;
  });
}
