/**
 * Progress reporting: flash progress mapped to module states (erasing, writing, verifying), and the
 * throttle that keeps progress events to at most one per module per interval, plus one on every
 * phase change and at the end (ota-landscape §2 Zigbee2MQTT, §3.5 stale progress).
 */
import type { FlashProgress } from "../../targets/index.js";
import type { JobEnv } from "../module/job-env.js";
import type { ModuleState, ProgressInfo } from "./types.js";

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

/**
 * Share of a job's bar taken by reading the previous firmware back before its slot is overwritten:
 * the read-back moves the backup over the line once, the flash moves the new image twice (write and
 * read-back or checksum verify, AN3155 §3.4/§3.5) and erases, so the backup weighs
 * backup / (backup + 2 × image), at most 60 %.
 */
export function backupShare(backupBytes: number, imageBytes: number): number {
  if (backupBytes <= 0) return 0;
  return Math.min(0.6, backupBytes / (backupBytes + 2 * Math.max(0, imageBytes)));
}

/** Progress of the backup phase, its percent already scaled to the backup's share of the job. */
export function backupProgress(done: number, total: number, share: number): ProgressInfo {
  const within = total > 0 ? Math.min(1, done / total) : 1;
  return { phase: "backup", done, total, percent: Math.round(within * share * 1000) / 10 };
}

/**
 * One module's overall bar within a run. The backup reports its percent scaled to its share; the
 * flasher's own 0–100 % (already monotonic over erase/write/verify) then fills the rest of the bar
 * from wherever the backup left it, so the bar never restarts (the issue that showed 93.8 % → 0).
 * The remaining time of the backup comes from the measured pace over the whole bar.
 */
export class ModuleBar {
  #base = 0;
  #last = 0;
  #backup = false;
  #startedAt: number | null = null;

  constructor(private readonly now: () => number) {}

  map(
    progress: ProgressInfo,
    remainingSeconds: number | null | undefined,
  ): {
    progress: ProgressInfo;
    remainingSeconds: number | null | undefined;
  } {
    this.#startedAt ??= this.now();
    let percent: number;
    let remaining = remainingSeconds;
    if (progress.phase === "backup") {
      this.#backup = true;
      percent = progress.percent;
      const elapsed = (this.now() - this.#startedAt) / 1000;
      const fraction = Math.max(percent, this.#last) / 100;
      remaining = fraction >= 0.02 ? Math.round((elapsed * (1 - fraction) * 10) / fraction) / 10 : null;
    } else {
      if (this.#backup) {
        this.#backup = false;
        this.#base = this.#last;
      }
      percent = this.#base + (progress.percent * (100 - this.#base)) / 100;
    }
    percent = Math.round(Math.max(this.#last, Math.min(100, percent)) * 10) / 10;
    this.#last = percent;
    return { progress: { ...progress, percent }, remainingSeconds: remaining };
  }
}
