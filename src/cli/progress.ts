/**
 * Progress output of the bench commands: a cli-progress bar on a terminal, plain lines when stderr is
 * not a terminal (CI logs, pipes), or one JSON object per line on stdout with --json (progress and
 * retry events, then the result). Human output goes to stderr so stdout stays clean for data.
 */
import { createRequire } from "node:module";
import type * as CliProgress from "cli-progress";
import type { FlashEvents, FlashProgress, FlashStats } from "../targets/index.js";
import type { SubflashError } from "../util/errors.js";

export type RetryEvent = FlashEvents["retry"][0];

/** Flash progress, or the same shape for other long operations (phase "read", "erase"…). */
export type Progress = Omit<FlashProgress, "phase"> & { phase: string };

export interface ProgressReporter {
  progress(p: Progress): void;
  retry(r: RetryEvent): void;
  /** A remark for humans (not shown in --json mode, where the result carries it). */
  note(text: string): void;
  /** Ends the bar; call before printing the result. */
  stop(): void;
}

/** Writes one JSON object as a line on stdout. */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function createReporter(options: { json: boolean; stream?: NodeJS.WriteStream }): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.json) return jsonReporter();
  return stream.isTTY ? barReporter(stream) : lineReporter(stream);
}

function jsonReporter(): ProgressReporter {
  return {
    progress: (p) => writeJsonLine({ event: "progress", ...p }),
    retry: (r) => writeJsonLine({ event: "retry", ...r }),
    note: () => {},
    stop: () => {},
  };
}

function eta(seconds: number | undefined): string {
  if (seconds === undefined) return "";
  if (seconds < 60) return `~${Math.ceil(seconds)} s left`;
  return `~${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s left`;
}

function barReporter(stream: NodeJS.WriteStream): ProgressReporter {
  // Loaded only when a bar is drawn, not on every command's start-up (`info` never draws one).
  const { Presets, SingleBar } = createRequire(import.meta.url)("cli-progress") as typeof CliProgress;
  const bar = new SingleBar(
    {
      format: "{phase} [{bar}] {percentage}% {remaining}",
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 1,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    progress(p) {
      const payload = { phase: p.phase.padEnd(6), remaining: eta(p.remainingSeconds) };
      if (!started) {
        bar.start(100, p.percent, payload);
        started = true;
      } else {
        bar.update(p.percent, payload);
      }
    },
    retry(r) {
      // Printed above the bar, which redraws itself on the next update.
      stream.write(`\nretry ${r.attempt}/${r.of}: ${r.what}: ${r.reason}\n`);
    },
    note: (text) => stream.write(`${text}\n`),
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** One line per phase change and per 10 % step: readable in a CI log. */
function lineReporter(stream: NodeJS.WriteStream): ProgressReporter {
  let phase = "";
  let step = -1;
  return {
    progress(p) {
      const tenth = Math.floor(p.percent / 10);
      if (p.phase === phase && tenth === step) return;
      phase = p.phase;
      step = tenth;
      stream.write(`${p.phase} ${p.percent.toFixed(0)}% (${p.done}/${p.total}) ${eta(p.remainingSeconds)}\n`);
    },
    retry: (r) => stream.write(`retry ${r.attempt}/${r.of}: ${r.what}: ${r.reason}\n`),
    note: (text) => stream.write(`${text}\n`),
    stop: () => {},
  };
}

/** "64 KiB", "1.5 MiB", "300 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(2)} KiB`;
  return `${bytes} bytes`;
}

/** One line about a finished flash, for humans. */
export function describeStats(stats: FlashStats): string {
  const erase = stats.massErase ? "mass erase" : `erased ${stats.eraseUnits} unit(s)`;
  const verified =
    stats.verifiedBy === "crc"
      ? "verified by Get Checksum (0xA1)"
      : stats.verifiedBy === "readback"
        ? "verified by read-back"
        : "NOT verified";
  const retries = stats.retries > 0 ? `, ${stats.retries} retr${stats.retries === 1 ? "y" : "ies"}` : "";
  const repairs = stats.repairs ? `, ${stats.repairs} repair round(s)` : "";
  const u = stats.units;
  const units =
    u && u.covered > 0
      ? `; of ${u.covered} unit(s) the image covers, ${u.checked} checked, ${u.skipped} already held it, ` +
        `${u.written} written`
      : "";
  const wire = `${stats.wire.sent + stats.wire.received} B on the wire`;
  const full =
    stats.fullEstimateMs !== undefined
      ? ` (full-image estimate ${(stats.fullEstimateMs / 1000).toFixed(1)} s)`
      : "";
  return (
    `${erase}, wrote ${stats.blocksWritten} block(s) (${stats.blocksSkipped} blank skipped), ${verified}${retries}${repairs}, ` +
    `${wire}, ${(stats.elapsedMs / 1000).toFixed(1)} s${full}${units}`
  );
}

/** In --json mode, a failure as the result line (port, activation, a refused command): exit 1. */
export function failJson(error: SubflashError, extra: Record<string, unknown> = {}): number {
  writeJsonLine({ event: "result", ok: false, ...extra, error: error.toJSON() });
  return 1;
}
