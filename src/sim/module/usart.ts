/**
 * The USART front-end of the simulated ROM (AN3155 §2.1, docs/protocol.md §2.6): byte timing on
 * the wire, the 0x7F activation, feeding the command engine, and handing bytes to the application
 * while it runs. It keeps the module's virtual clock:
 * - `cpu` is when the device is next free: it advances to each consumed byte's completion time, by
 *   modelled flash work, and by the replies it puts on the line;
 * - flash work is journaled with its time window, so a power cut at time t can take back what had
 *   not been done by t.
 * With timing off all times are 0 and everything happens at once.
 */
import { addr, hex, type Logger } from "../../util/logger.js";
import type { CoreExit, CoreSession } from "./core.js";
import type { FaultDirection, FaultList } from "./faults.js";
import type { Undo } from "./flash.js";
import { ACK, SYNC } from "./opcodes.js";
import { clockNow } from "./scheduler.js";
import type { SimState, SimStats } from "./types.js";
import { byteTimeMs, RxBuffer, TxLine } from "./wire.js";

/** What the front-end needs from the module that owns it. */
export interface UsartTarget {
  state(): SimState;
  /** The module got its 0x7F: a new command session starts ("bootloader"). */
  startSession(): CoreSession;
  endSession(exit: CoreExit): void;
  /** Bytes for the running application. */
  appData(bytes: Uint8Array): void;
  /** A power-cut fault fired on a received byte whose transfer started at `at`. */
  powerCut(at: number): void;
}

interface JournalEntry {
  start: number;
  end: number;
  undo: Undo;
}

export interface UsartFrontEndOptions {
  baud: number;
  timing: boolean;
  faults: FaultList;
  stats: SimStats;
  logger: Logger;
  output: (bytes: Uint8Array) => void;
  target: UsartTarget;
}

export class UsartFrontEnd {
  /** Modelled byte time (stats use it even when timing is off). */
  readonly modelByteMs: number;
  /** Byte time the scheduling uses: the model's, or 0 without timing. */
  readonly byteMs: number;
  /** When the device is next free to act (virtual time). */
  cpu = 0;
  /** Bytes that complete before this time are lost (the module was resetting). */
  readyAt = 0;
  readonly #rx: RxBuffer;
  readonly #tx: TxLine;
  #rxFree = 0;
  #journal: JournalEntry[] = [];
  #session: CoreSession | undefined;
  #need = 0;
  #pumping = false;
  #pumpAgain = false;
  /** Real time the last reply was handed to the line, until the host's next bytes arrive. */
  #repliedAt: number | undefined;
  readonly #o: UsartFrontEndOptions;
  readonly #trace: boolean;

  constructor(options: UsartFrontEndOptions) {
    this.#o = options;
    this.modelByteMs = byteTimeMs(options.baud);
    this.byteMs = options.timing ? this.modelByteMs : 0;
    this.#rx = new RxBuffer(this.byteMs);
    this.#tx = new TxLine(this.byteMs, (bytes) => {
      if (options.timing) this.#repliedAt = clockNow();
      options.output(bytes);
    });
    this.#trace = options.logger.isLevelEnabled?.("trace") ?? false;
  }

  /** Current time on the virtual clock's scale (0 without timing). */
  now(): number {
    return this.#o.timing ? clockNow() : 0;
  }

  /** Bytes from the host, arrived now. */
  receive(bytes: Uint8Array, arrival = clockNow()): void {
    const { stats, faults } = this.#o;
    if (this.#trace) this.#o.logger.trace({ dir: "rx", hex: hex(bytes) }, "host → module");
    if (this.#repliedAt !== undefined && this.#tx.idle) {
      stats.hostTurnarounds++;
      stats.hostTurnaroundMs += Math.max(0, arrival - this.#repliedAt);
    }
    this.#repliedAt = undefined;
    const start = this.#o.timing ? Math.max(arrival, this.#rxFree) : 0;
    this.#rxFree = start + bytes.length * this.byteMs;
    if (!faults.watchesBytes("rx")) {
      stats.bytesReceived += bytes.length;
      stats.wireRxMs += bytes.length * this.modelByteMs;
      this.#rx.push(bytes, start + this.byteMs);
      this.#pump();
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      stats.bytesReceived++;
      stats.wireRxMs += this.modelByteMs;
      const verdict = faults.onByte("rx");
      const t0 = start + i * this.byteMs;
      if (verdict.action === "power-cut") {
        this.#pump();
        this.#o.target.powerCut(t0);
        return;
      }
      if (verdict.action === "drop") continue;
      const byte = verdict.action === "corrupt" ? bytes[i]! ^ verdict.mask : bytes[i]!;
      this.#rx.push(Uint8Array.of(byte), t0 + this.byteMs);
    }
    this.#pump();
  }

  /** Puts device bytes on the line when the device is free (and after anything sent before). */
  send(bytes: ArrayLike<number>): void {
    const { stats, faults } = this.#o;
    let out: Uint8Array = Uint8Array.from(bytes);
    const wireLength = out.length;
    stats.bytesSent += out.length;
    stats.wireTxMs += out.length * this.modelByteMs;
    if (faults.watchesBytes("tx")) out = this.#txFaults(out, faults);
    const readyAt = Math.max(this.cpu, this.now());
    if (this.#trace) this.#o.logger.trace({ dir: "tx", hex: hex(out) }, "module → host");
    this.cpu = this.#tx.send(out, readyAt, wireLength);
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

  /** The module (re)boots at `at`: bytes completing before then are lost, no session runs. */
  boot(at: number): void {
    this.readyAt = at;
    this.cpu = Math.max(this.cpu, at);
    this.#session = undefined;
    this.#pump();
  }

  /**
   * Power cut or reset held at time `t`: flash work not done by then is taken back, replies not yet
   * on the wire are lost (and leave the statistics), received bytes are dropped.
   */
  halt(t: number): void {
    for (const entry of this.#journal.reverse()) {
      if (entry.end > t)
        entry.undo.restore(entry.end > entry.start ? (t - entry.start) / (entry.end - entry.start) : 1);
    }
    this.#journal = [];
    const lost = this.#tx.cut(t);
    this.#o.stats.bytesSent -= lost;
    this.#o.stats.wireTxMs -= lost * this.modelByteMs;
    this.#rx.clear();
    this.#session = undefined;
    this.cpu = Math.max(t, 0);
  }

  /** Re-examines buffered bytes after a state change made outside a receive (e.g. the app entered the bootloader). */
  kick(): void {
    this.#pump();
  }

  close(): void {
    this.#tx.clear();
    this.#rx.clear();
    this.#session = undefined;
  }

  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#pumpOnce();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    const target = this.#o.target;
    for (;;) {
      switch (target.state()) {
        case "off":
          this.#rx.clear();
          return;
        case "bootloader-sync":
          if (!this.#awaitSync()) return;
          break;
        case "bootloader":
          if (!this.#session) {
            // Entered without a 0x7F (cannot happen on USART); wait for one.
            return;
          }
          if (this.#rx.length < this.#need) return;
          this.#feedSession();
          break;
        case "application": {
          this.#rx.dropBefore(this.readyAt);
          if (this.#rx.length === 0) return;
          const { bytes, doneAt } = this.#rx.take(this.#rx.length);
          this.cpu = Math.max(this.cpu, doneAt);
          target.appData(bytes);
          if (target.state() === "application") return;
          break;
        }
      }
    }
  }

  /** WAIT_SYNC (§2.6 item 1): ignore everything until a 0x7F, answer ACK. True when synchronised. */
  #awaitSync(): boolean {
    this.#rx.dropBefore(this.readyAt);
    while (this.#rx.length > 0) {
      const { bytes, doneAt } = this.#rx.take(1);
      if (bytes[0] !== SYNC) continue;
      this.cpu = Math.max(this.cpu, doneAt);
      this.send([ACK]);
      this.#session = this.#o.target.startSession();
      this.#need = this.#session.next().value as number;
      return true;
    }
    return false;
  }

  #feedSession(): void {
    const { bytes, doneAt } = this.#rx.take(this.#need);
    this.cpu = Math.max(this.cpu, doneAt);
    const step = this.#session!.next(bytes);
    if (!step.done) {
      this.#need = step.value;
      return;
    }
    this.#session = undefined;
    if (step.value.kind === "go") this.#o.logger.debug({ address: addr(step.value.address) }, "Go");
    this.#o.target.endSession(step.value);
  }

  #txFaults(bytes: Uint8Array, faults: FaultList): Uint8Array {
    const kept: number[] = [];
    const direction: FaultDirection = "tx";
    for (const b of bytes) {
      const verdict = faults.onByte(direction);
      if (verdict.action === "drop") continue;
      kept.push(verdict.action === "corrupt" ? b ^ verdict.mask : b);
    }
    return Uint8Array.from(kept);
  }
}
