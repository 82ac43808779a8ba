/**
 * The I2C front-end of the simulated ROM (AN4221, docs/protocol.md §3): the slave side of one
 * module on a simulated I2C bus (i2c-bus.ts). It feeds the command engine (core.ts, in its I2C
 * protocol) from write transactions and serves read transactions from the engine's replies.
 *
 * The model, transaction by transaction:
 * - Address acknowledge: the module acknowledges its address while its bootloader waits for a host
 *   on any interface (AN2606: the first interface addressed wins) or runs an I2C session; not while
 *   it is off, resetting, running its application, or talking USART.
 * - Writes: the payload joins the bytes the engine is waiting for (a phase that asks for 5 bytes
 *   takes them from however many transactions). A write while a reply is still unread abandons the
 *   command: the device gives up sending and waits for a new command.
 * - Reads: every reply the engine sends (one ACK, one data reply) is one "unit" the master must read
 *   in ONE transaction of exactly its length:
 *   - exact length: delivered;
 *   - shorter (the master NACKs early): the rest is dropped and the command abandoned, or, with
 *     `shortRead: "continue"`, kept for the next read transaction (a ROM that pushes reply bytes one
 *     by one as the bus asks, like OpenBootloader's send loop);
 *   - longer: after its last byte the slave holds SCL low waiting for data the ROM never writes
 *     (clock stretching with an empty transmit register), so the master's adapter times out
 *     ("stall"); the command is abandoned;
 *   - nothing to send: a v1.2 ROM completes the read with idle-bus 0xFF bytes (it answers
 *     i2cdetect probes, §3.4); older ones stall the same way.
 * - Flash work: a unit produced after modelled work is ready only when the work ends. A read before
 *   that either returns BUSY (0x76) — No-Stretch commands, each poll one read — or is held (SCL
 *   stretched) until the unit is ready — plain commands.
 * - A command that resets the device or jumps away (§1.4) takes effect once its last reply has been
 *   read: the ROM sends its final ACK and then resets.
 * Times are on the module's virtual clock (performance.now() scale), 0 with timing off, as in usart.ts.
 */
import { hex, type Logger } from "../../util/logger.js";
import type { CoreExit, CoreSession } from "./core.js";
import type { FaultList } from "./faults.js";
import type { Undo } from "./flash.js";
import { answersProbes, isNoStretchOp } from "./i2c-opcodes.js";
import { BUSY } from "./opcodes.js";
import { clockNow } from "./scheduler.js";
import type { SimState, SimStats } from "./types.js";

/** What a read transaction gets from the slave. */
export type I2cReadOutcome =
  /** `bytes` are clocked out from `dataStart` on (later than asked when the slave stretched SCL first). */
  | { kind: "data"; bytes: Uint8Array; dataStart: number; busy: boolean }
  /** The slave holds SCL low and never releases it for this transaction: the master's adapter times out. */
  | { kind: "stall"; reason: string };

/** The slave side of one module as the simulated bus sees it. */
export interface SimI2cEndpoint {
  /** I2C protocol version byte of the module's bootloader. */
  readonly version: number;
  /** Whether the module acknowledges its address at time `t`. */
  acknowledges(t: number): boolean;
  /** A write transaction's payload, complete at `t`. */
  write(bytes: Uint8Array, t: number): void;
  /** A read of `length` bytes whose first data byte is due at `t`. */
  read(length: number, t: number): I2cReadOutcome;
}

/** What the front-end needs from the module that owns it. */
export interface I2cTarget {
  state(): SimState;
  /** The host addressed the waiting bootloader over I2C: a command session starts ("bootloader"). */
  startSession(): CoreSession;
  /** The session ended (reset or Go) at virtual time `at`. */
  endSession(exit: CoreExit, at: number): void;
}

export interface I2cFrontEndOptions {
  timing: boolean;
  /** I2C protocol version byte (0x10, 0x11, 0x12). */
  version: number;
  /** A read shorter than the reply: drop the rest and the command, or serve the rest next (see the header). */
  shortRead: "abandon" | "continue";
  faults: FaultList;
  stats: SimStats;
  logger: Logger;
  target: I2cTarget;
}

interface ReplyUnit {
  bytes: Uint8Array;
  /** When the device has it ready (after the flash work before it). */
  readyAt: number;
  /** Produced by a No-Stretch command: polled with BUSY while not ready. */
  noStretch: boolean;
}

interface JournalEntry {
  start: number;
  end: number;
  undo: Undo;
}

export class I2cFrontEnd implements SimI2cEndpoint {
  readonly version: number;
  /** When the device is next free to act (virtual time). */
  cpu = 0;
  /** The module does not acknowledge its address before this time (booting). */
  readyAt = 0;
  readonly #o: I2cFrontEndOptions;
  readonly #trace: boolean;
  #session: CoreSession | undefined;
  /** This interface won the bootloader (AN2606 interface selection) and holds the session. */
  #owns = false;
  #need = 0;
  #input: number[] = [];
  #units: ReplyUnit[] = [];
  #pendingExit: CoreExit | undefined;
  #op: number | undefined;
  #journal: JournalEntry[] = [];

  constructor(options: I2cFrontEndOptions) {
    this.#o = options;
    this.version = options.version;
    this.#trace = options.logger.isLevelEnabled?.("trace") ?? false;
  }

  /** Current time on the virtual clock's scale (0 without timing). */
  now(): number {
    return this.#o.timing ? clockNow() : 0;
  }

  // ---- the bus side ----

  acknowledges(t: number): boolean {
    const at = this.#at(t);
    switch (this.#o.target.state()) {
      case "bootloader-sync":
        return at >= this.readyAt;
      case "bootloader":
        return this.#owns;
      default:
        return false;
    }
  }

  write(bytes: Uint8Array, t: number): void {
    const at = this.#at(t);
    this.#o.stats.bytesReceived += bytes.length;
    if (this.#trace) this.#o.logger.trace({ dir: "rx", hex: hex(bytes) }, "I2C write");
    if (bytes.length === 0) return; // a quick write (probe): address acknowledged, nothing else
    if (this.#units.length > 0) this.#abandon("a write arrived while a reply was unread", at);
    if (!this.#session) {
      if (this.#pendingExit || !this.acknowledges(t)) return;
      this.#session = this.#o.target.startSession();
      this.#owns = true;
      this.#need = this.#session.next().value as number;
    }
    this.cpu = Math.max(this.cpu, at);
    for (const b of bytes) this.#input.push(b);
    this.#pump();
  }

  read(length: number, t: number): I2cReadOutcome {
    const at = this.#at(t);
    const unit = this.#units[0];
    if (!unit) {
      if (answersProbes(this.version))
        return { kind: "data", bytes: new Uint8Array(length).fill(0xff), dataStart: t, busy: false };
      this.#abandon("read with nothing to send", at);
      return { kind: "stall", reason: "the bootloader had nothing to send and held SCL low" };
    }
    let dataStart = t;
    if (at < unit.readyAt) {
      if (unit.noStretch)
        return { kind: "data", bytes: new Uint8Array(length).fill(BUSY), dataStart: t, busy: true };
      dataStart = t + (unit.readyAt - at); // clock stretching until the flash work is done
    }
    this.#units.shift();
    this.#o.stats.bytesSent += Math.min(length, unit.bytes.length);
    if (length > unit.bytes.length) {
      this.#abandon(`read of ${length} bytes, the reply has ${unit.bytes.length}`, at);
      return {
        kind: "stall",
        reason: `the bootloader sent its ${unit.bytes.length}-byte reply and then held SCL low (${length} bytes were read)`,
      };
    }
    const bytes = unit.bytes.subarray(0, length);
    if (this.#trace) this.#o.logger.trace({ dir: "tx", hex: hex(bytes) }, "I2C read");
    if (length < unit.bytes.length && this.#o.shortRead === "continue")
      this.#units.unshift({ ...unit, bytes: unit.bytes.subarray(length) });
    else if (length < unit.bytes.length)
      this.#abandon(`read of ${length} bytes, the reply has ${unit.bytes.length}`, at);
    else if (this.#units.length === 0 && this.#pendingExit)
      this.#exit(this.#pendingExit, Math.max(this.cpu, at + (dataStart - t)));
    return { kind: "data", bytes, dataStart, busy: false };
  }

  // ---- the engine side (core hooks) ----

  /** A reply unit: one read transaction's worth. */
  send(bytes: ArrayLike<number>): void {
    const readyAt = Math.max(this.cpu, this.now());
    this.#units.push({
      bytes: Uint8Array.from(bytes),
      readyAt,
      noStretch: this.#op !== undefined && isNoStretchOp(this.#op),
    });
  }

  /** Modelled flash work: the device is busy `ms` from now on the virtual clock. */
  work(ms: number, undo?: Undo): void {
    const { stats, faults } = this.#o;
    const total = ms + faults.onFlashWork();
    stats.flashBusyMs += total;
    if (!this.#o.timing) return;
    const start = Math.max(this.cpu, clockNow());
    this.cpu = start + total;
    const now = clockNow();
    this.#journal = this.#journal.filter((e) => e.end > now);
    if (undo) this.#journal.push({ start, end: this.cpu, undo });
  }

  commandStarted(op: number): void {
    this.#op = op;
  }

  commandEnded(): void {
    this.#op = undefined;
  }

  // ---- the module side ----

  /** The module (re)boots at `at`: not addressable before then, no session, nothing to send. */
  boot(at: number): void {
    this.readyAt = at;
    this.cpu = Math.max(this.cpu, at);
    this.#reset();
  }

  /** Power cut or reset held at `t`: flash work not done by then is taken back, replies are lost. */
  halt(t: number): void {
    for (const entry of this.#journal.reverse()) {
      if (entry.end > t)
        entry.undo.restore(entry.end > entry.start ? (t - entry.start) / (entry.end - entry.start) : 1);
    }
    this.#journal = [];
    this.#reset();
    this.cpu = Math.max(t, 0);
  }

  close(): void {
    this.#reset();
  }

  // ---- internals ----

  #at(t: number): number {
    return this.#o.timing ? t : 0;
  }

  #reset(): void {
    this.#session = undefined;
    this.#owns = false;
    this.#input = [];
    this.#units = [];
    this.#pendingExit = undefined;
    this.#op = undefined;
  }

  #pump(): void {
    while (this.#session && this.#input.length >= this.#need) {
      const bytes = Uint8Array.from(this.#input.splice(0, this.#need));
      const step = this.#session.next(bytes);
      if (!step.done) {
        this.#need = step.value;
        continue;
      }
      this.#session = undefined;
      this.#input = [];
      if (this.#units.length > 0) this.#pendingExit = step.value;
      else this.#exit(step.value, this.cpu);
    }
  }

  #exit(exit: CoreExit, at: number): void {
    this.#pendingExit = undefined;
    this.#o.logger.debug({ exit: exit.kind }, "I2C session ends");
    this.#o.target.endSession(exit, at);
  }

  /** The device gives up the current command (OpenBootloader's I2C timeouts) and waits for a new one. */
  #abandon(why: string, at: number): void {
    this.#o.logger.debug({ why }, "I2C: command abandoned");
    this.#units = [];
    this.#input = [];
    this.#op = undefined;
    const exit = this.#pendingExit;
    if (exit) {
      this.#exit(exit, Math.max(this.cpu, at));
      return;
    }
    this.#session = undefined; // the next write starts a new command session
  }
}
