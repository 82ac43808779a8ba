/**
 * One coherent progress figure over weighted phases (RAUC-style nested steps): each phase weighs its
 * estimated duration, so the overall percent is monotonic; the remaining time comes from the measured
 * pace once enough of the work is done, from the model before that.
 */
import type { FlashPhase, FlashProgress } from "./flash-types.js";

export interface PhaseEstimate {
  phase: FlashPhase;
  /** Modelled duration of the phase, in ms (only the ratios matter for the percent). */
  ms: number;
}

/** Below this fraction of the work the measured pace is too noisy; the model is used instead. */
const MEASURED_FROM = 0.05;

export class ProgressTracker {
  #phases: readonly PhaseEstimate[];
  #total: number;
  readonly #started: number;
  readonly #now: () => number;
  #last = 0;

  constructor(phases: readonly PhaseEstimate[], now: () => number = Date.now) {
    this.#phases = phases.filter((p) => p.ms > 0);
    this.#total = this.#phases.reduce((sum, p) => sum + p.ms, 0);
    this.#now = now;
    this.#started = now();
  }

  /**
   * New phase estimates mid-way (differential flashing learns what is left after its checks); the
   * percent never goes back and the clock keeps running.
   */
  replan(phases: readonly PhaseEstimate[]): void {
    this.#phases = phases.filter((p) => p.ms > 0);
    this.#total = this.#phases.reduce((sum, p) => sum + p.ms, 0);
  }

  /** Progress of `phase` at `done` of `total` (bytes or units). */
  at(phase: FlashPhase, done: number, total: number): FlashProgress {
    let before = 0;
    let weight = 0;
    for (const p of this.#phases) {
      if (p.phase === phase) {
        weight = p.ms;
        break;
      }
      before += p.ms;
    }
    const within = total > 0 ? Math.min(1, done / total) : 1;
    const fraction =
      this.#total > 0 ? Math.max(this.#last, Math.min(1, (before + weight * within) / this.#total)) : 1;
    this.#last = fraction;
    const elapsed = this.#now() - this.#started;
    const remainingMs =
      fraction >= 1
        ? 0
        : fraction >= MEASURED_FROM
          ? (elapsed * (1 - fraction)) / fraction
          : this.#total * (1 - fraction);
    return {
      phase,
      done,
      total,
      percent: Math.round(fraction * 1000) / 10,
      remainingSeconds: Math.round(remainingMs / 100) / 10,
    };
  }
}
