/**
 * Progress reporting: flash progress mapped to module states (erasing, writing, verifying), and the
 * throttle that keeps progress events to at most one per module per interval, plus one on every
 * phase change and at the end (ota-landscape §2 Zigbee2MQTT, §3.5 stale progress).
 */
import type { FlashProgress } from "../../targets/index.js";
import type { JobEnv } from "../module/job-env.js";
import type { ModuleState } from "./types.js";

const STATE_OF_PHASE: Partial<Record<FlashProgress["phase"], ModuleState>> = {
  connect: "entering-bootloader",
  // Asking the module which erase units already hold the image is part of writing the slot.
  check: "writing",
  erase: "erasing",
  write: "writing",
  verify: "verifying",
};

/** A flasher progress listener that reports the module's state and progress. */
export function flashProgressReporter(env: JobEnv): (progress: FlashProgress) => void {
  return (p) => {
    env.report({
      state: STATE_OF_PHASE[p.phase] ?? "writing",
      progress: { phase: p.phase, done: p.done, total: p.total, percent: p.percent },
      remainingSeconds: p.remainingSeconds ?? null,
    });
  };
}

/** Decides which progress updates become events: phase changes, 100 %, and otherwise one per interval. */
export class ProgressThrottle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; phase: string }>();

  constructor(intervalMs: number, now: () => number) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** True when this update for `module` should be emitted now. */
  pass(module: string, phase: string, percent: number): boolean {
    const now = this.#now();
    const last = this.#last.get(module);
    if (last && last.phase === phase && percent < 100 && now - last.at < this.#intervalMs) return false;
    this.#last.set(module, { at: now, phase });
    return true;
  }

  /** Forget a module's last update (its job ended), so the next one always passes. */
  reset(module: string): void {
    this.#last.delete(module);
  }
}
