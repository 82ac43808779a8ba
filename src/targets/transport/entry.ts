/**
 * Bootloader entry and exit through a serial adapter's modem lines (DTR, RTS) wired to the module's
 * NRST and BOOT0 pins (docs/protocol.md §7, "Automatic entry via modem lines").
 *
 * LEVELS. Everything here is LOGICAL: `dtr: true` means DTR is ASSERTED, which is what
 * StreamTransport.setLines({ dtr: true }) does. Electrically, the DTR#/RTS# pins of a USB-UART are
 * active low (asserted = pin low), an RS-232 driver makes asserted a positive voltage, and a board may
 * add a transistor. The wiring options say what an asserted line does to the pin it drives:
 *
 * - `resetActiveLow` (default true): asserting the reset line holds the MCU in reset (NRST low). True
 *   for the common direct wire DTR# → NRST. False: the MCU is held in reset while the line is
 *   deasserted (an inverter in between).
 * - `boot0ActiveHigh` (default true): asserting the BOOT0 line selects the bootloader (BOOT0 high).
 *   False: BOOT0 is high while the line is deasserted.
 *
 * The defaults match stm32loader's (DTR = reset, asserted = reset active; RTS = BOOT0, asserted =
 * BOOT0 high). The simulator interprets setLines() with interpretLines() below, so both sides agree.
 *
 * SEQUENCE STRINGS (our format, e.g. for a config file or --entry):
 *
 *   "rts=1,dtr=1,wait=100,dtr=0,wait=50"
 *
 * Comma-separated steps, run in order. `dtr=1` / `rts=0` assert / deassert a line (1/0, on/off,
 * true/false); `dtr=1+rts=0` changes both lines in one setLines() call; `wait=100` pauses 100 ms.
 * The empty string is the empty sequence: the module is already in its bootloader ("none").
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TransportError } from "./errors.js";
import type { SerialLines, StreamTransport } from "./transport.js";

export type LineName = "dtr" | "rts";

export type LineStep = { kind: "lines"; lines: SerialLines } | { kind: "wait"; ms: number };

/** Longest single wait a sequence may hold (a mistyped "wait=100000" should not hang a flash). */
export const MAX_WAIT_MS = 60_000;

const TRUE_WORDS = new Set(["1", "on", "true"]);
const FALSE_WORDS = new Set(["0", "off", "false"]);

function sequenceError(sequence: string, problem: string, token?: string): TransportError {
  return new TransportError("bad-settings", `line sequence "${sequence}": ${problem}`, { sequence, token });
}

/** Parses a sequence string (format above). Throws TransportError "bad-settings" naming the bad step. */
export function parseLineSequence(sequence: string): LineStep[] {
  const trimmed = sequence.trim();
  if (trimmed === "") return [];
  return trimmed.split(",").map((raw) => {
    const token = raw.trim();
    if (token === "") throw sequenceError(sequence, "empty step (two commas in a row?)");
    const wait = /^wait\s*=\s*(\d+)\s*(ms)?$/i.exec(token);
    if (wait) {
      const ms = Number(wait[1]);
      if (ms > MAX_WAIT_MS) throw sequenceError(sequence, `wait=${ms} exceeds ${MAX_WAIT_MS} ms`, token);
      return { kind: "wait", ms };
    }
    const lines: SerialLines = {};
    for (const part of token.split("+")) {
      const m = /^\s*([a-z]+)\s*=\s*([a-z0-9]+)\s*$/i.exec(part);
      const name = m?.[1]?.toLowerCase();
      const value = m?.[2]?.toLowerCase();
      if (!m || !name || !value)
        throw sequenceError(sequence, `"${token}" is not "dtr=<0|1>", "rts=<0|1>" or "wait=<ms>"`, token);
      if (name !== "dtr" && name !== "rts")
        throw sequenceError(sequence, `unknown line "${name}" (dtr or rts)`, token);
      if (lines[name] !== undefined) throw sequenceError(sequence, `"${token}" sets ${name} twice`, token);
      if (TRUE_WORDS.has(value)) lines[name] = true;
      else if (FALSE_WORDS.has(value)) lines[name] = false;
      else throw sequenceError(sequence, `"${value}" is not a line level (1/0, on/off, true/false)`, token);
    }
    return { kind: "lines", lines };
  });
}

/** The canonical string of a sequence ("dtr=1+rts=1,wait=100,dtr=0"); parseLineSequence reads it back. */
export function formatLineSequence(steps: readonly LineStep[]): string {
  return steps
    .map((step) => {
      if (step.kind === "wait") return `wait=${step.ms}`;
      return (["dtr", "rts"] as const)
        .filter((name) => step.lines[name] !== undefined)
        .map((name) => `${name}=${step.lines[name] ? 1 : 0}`)
        .join("+");
    })
    .join(",");
}

export interface RunLineSequenceOptions {
  /** Replaces the real pause (tests, simulations with virtual time). */
  sleep?: (ms: number) => Promise<void>;
}

/** Plays a sequence on a transport: one setLines() per line step, a pause per wait step. */
export async function runLineSequence(
  transport: Pick<StreamTransport, "setLines">,
  steps: readonly LineStep[],
  opts: RunLineSequenceOptions = {},
): Promise<void> {
  const pause = opts.sleep ?? ((ms: number) => sleep(ms));
  for (const step of steps) {
    if (step.kind === "wait") await pause(step.ms);
    else await transport.setLines(step.lines);
  }
}

/** Which line drives which pin, and what "asserted" means for each (see the file comment). */
export interface LineWiring {
  /** Line wired to BOOT0. Default "rts". */
  boot0: LineName;
  /** Line wired to NRST. Default "dtr". */
  reset: LineName;
  /** Asserting the BOOT0 line sets BOOT0 high (selects the bootloader). Default true. */
  boot0ActiveHigh: boolean;
  /** Asserting the reset line pulls NRST low (holds the MCU in reset). Default true. */
  resetActiveLow: boolean;
}

export const DEFAULT_WIRING: Readonly<LineWiring> = {
  boot0: "rts",
  reset: "dtr",
  boot0ActiveHigh: true,
  resetActiveLow: true,
};

export interface EntryTiming {
  /** How long reset is held, in ms. Default 100 (stm32loader's 0.1 s). */
  pulseMs: number;
  /** Pause after releasing reset, before the host talks to the ROM, in ms. Default 100. */
  settleMs: number;
}

export const DEFAULT_ENTRY_TIMING: Readonly<EntryTiming> = { pulseMs: 100, settleMs: 100 };

export type EntryOptions = Partial<LineWiring> & Partial<EntryTiming>;

function resolveWiring(opts: EntryOptions): LineWiring & EntryTiming {
  const wiring = { ...DEFAULT_WIRING, ...DEFAULT_ENTRY_TIMING, ...stripUndefined(opts) };
  if (wiring.boot0 === wiring.reset) {
    throw new TransportError(
      "bad-settings",
      `BOOT0 and NRST cannot both be wired to ${wiring.boot0.toUpperCase()}`,
      { boot0: wiring.boot0, reset: wiring.reset },
    );
  }
  return wiring;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Logical line level that puts BOOT0 at `high` / holds reset (`held`), for this wiring. */
function boot0Line(wiring: LineWiring, high: boolean): SerialLines {
  return { [wiring.boot0]: wiring.boot0ActiveHigh ? high : !high };
}
function resetLine(wiring: LineWiring, held: boolean): SerialLines {
  return { [wiring.reset]: wiring.resetActiveLow ? held : !held };
}

/**
 * Enter the ROM bootloader: BOOT0 high and reset held together, hold for pulseMs, release reset, wait
 * settleMs. BOOT0 stays high afterwards: it is only sampled at reset, and a reset during flashing (a
 * watchdog, a brown-out) then lands in the bootloader again rather than in a half-written application.
 */
export function bootloaderEntry(opts: EntryOptions = {}): LineStep[] {
  const w = resolveWiring(opts);
  return [
    { kind: "lines", lines: { ...boot0Line(w, true), ...resetLine(w, true) } },
    { kind: "wait", ms: w.pulseMs },
    { kind: "lines", lines: resetLine(w, false) },
    { kind: "wait", ms: w.settleMs },
  ];
}

/** Leave the bootloader for the application: BOOT0 low with reset held, hold for pulseMs, release, wait settleMs. */
export function applicationExit(opts: EntryOptions = {}): LineStep[] {
  const w = resolveWiring(opts);
  return [
    { kind: "lines", lines: { ...boot0Line(w, false), ...resetLine(w, true) } },
    { kind: "wait", ms: w.pulseMs },
    { kind: "lines", lines: resetLine(w, false) },
    { kind: "wait", ms: w.settleMs },
  ];
}

/**
 * What the pins see for given logical line levels: BOOT0 high or low, MCU held in reset or running.
 * The simulator's in-process transport uses this to react to setLines() exactly as a board wired per
 * `wiring` would.
 */
export function interpretLines(
  lines: Required<SerialLines>,
  wiring: Partial<LineWiring> = {},
): { boot0High: boolean; resetHeld: boolean } {
  const w = { ...DEFAULT_WIRING, ...stripUndefined(wiring) };
  const boot0Asserted = lines[w.boot0];
  const resetAsserted = lines[w.reset];
  return {
    boot0High: w.boot0ActiveHigh ? boot0Asserted : !boot0Asserted,
    resetHeld: w.resetActiveLow ? resetAsserted : !resetAsserted,
  };
}
