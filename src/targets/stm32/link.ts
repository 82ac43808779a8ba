/**
 * The link layer of the USART ROM bootloader (AN3155): one write per frame, ACK/NACK checks with
 * literal failure reasons, per-operation timeouts, activation (0x7F), resynchronisation after a lost
 * frame, and a mutex so that commands never interleave on the line.
 *
 * Commands reach the wire only through `exclusive(io => …)`: the `LinkIo` handed to the callback is
 * the lock. Every wait registers its reader before the frame is written (so a fast reply cannot be
 * missed), and its timeout covers the frame's own wire time (see link-timeouts.ts).
 * Reference: docs/protocol.md §2.1, §2.2, §5.2, §7.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { StreamTransport } from "../transport/transport.js";
import { TransportError } from "../transport/errors.js";
import { hex, silentLogger, type Logger } from "../../util/logger.js";
import type { DeviceInfo } from "./device.js";
import { BootloaderError } from "./errors.js";
import { ACK, ACTIVATE, NACK, byteName, commandFrame } from "./link-frames.js";
import {
  DEFAULT_TIMEOUT_POLICY,
  deviceWorstCase,
  replyTimeoutMs,
  wireMs,
  type TimeoutPolicy,
} from "./link-timeouts.js";
import { SerialQueue } from "../../util/serial-queue.js";

/** Why an exchange step failed, as a literal (style anchor: zwave-js SerialAPICommandMachine). */
export type LinkFailure = "ack timeout" | "nack" | "unexpected byte" | "response timeout";

/** What is being exchanged, for messages and logs: "Write Memory" / "address" at 0x08000100. */
export interface Step {
  command: string;
  phase: string;
  address?: number;
}

/** The primitives a command exchange is built from. Only reachable inside `Link.exclusive`. */
export interface LinkIo {
  readonly kind: "usart" | "i2c";
  /** Port or bus identity for messages, e.g. "/dev/ttyUSB0". */
  readonly port: string;
  /** The identified part (after Get ID), for sizing timeouts; undefined at first contact. */
  readonly device: DeviceInfo | undefined;
  /** Budget for a wait: `bytes` to cross the line before the reply is complete, plus device work. */
  timeout(bytes: number, deviceMs?: number): number;
  /** Sends `cmd ~cmd` and expects ACK. */
  command(code: number, step: Step): Promise<void>;
  /** Sends one frame (one write) and expects ACK within `timeoutMs`. */
  sendForAck(frame: Uint8Array, step: Step, timeoutMs: number): Promise<void>;
  /** Sends one frame and reads exactly `length` reply bytes. */
  sendForReply(frame: Uint8Array, length: number, step: Step, timeoutMs: number): Promise<Uint8Array>;
  /** Reads exactly `length` bytes. */
  read(length: number, step: Step, timeoutMs: number): Promise<Uint8Array>;
  /** Reads one status byte and requires ACK. */
  readAck(step: Step, timeoutMs: number): Promise<void>;
  /**
   * After a command that resets the device (§1.4): waits `typicalMs` (the device is busy and not
   * listening), then re-activates, polling until `budgetMs` has passed.
   */
  reactivateAfterReset(typicalMs: number, budgetMs: number): Promise<void>;
}

export interface Link {
  readonly port: string;
  readonly stats: { bytesWritten: number; bytesRead: number };
  /** Runs one exchange with the line to itself. */
  exclusive<T>(fn: (io: LinkIo) => Promise<T>): Promise<T>;
  /** Recovers the frame boundary after a lost or garbled frame. */
  resync(reason: string): Promise<void>;
  /** Sets the part used to size timeouts. */
  identify(device: DeviceInfo): void;
  /** Time `bytes` take on the line, in ms (progress estimates). */
  wireMs(bytes: number): number;
}

export interface UsartLinkOptions {
  logger?: Logger;
  /** Timeout policy overrides (latency allowance, margins). */
  timeouts?: Partial<TimeoutPolicy>;
  /** How long to wait for an answer to each 0x7F, in ms (default 500, as stm32flash). */
  activationTimeoutMs?: number;
  /** How many 0x7F to send before giving up (default 2: the second one detects "already synchronised"). */
  activationAttempts?: number;
  /** Resynchronisation rounds before declaring the device lost (default 3). */
  resyncRounds?: number;
}

export type ActivationOutcome = "synced" | "already-synced";

/**
 * Bytes sent to flush a half-received frame: more than the longest frame a device can be waiting for
 * (Write Memory: N + 256 data + checksum). 0xFF is the safest filler: it completes an address phase
 * with a bad checksum (NACK), a Read count with a bad complement (NACK), and a Write data phase either
 * with a bad checksum or, at worst, as a write of 0xFF bytes, which leaves flash unchanged.
 */
const RESYNC_BURST = 260;
/** A byte some adapters deliver after a DTR-driven reset (§7, ARMinARM/stm32flash#3). */
const STRAY_AFTER_RESET = 0x00;

/**
 * How long the first of several 0x7F waits, in ms (plus two byte times). A bootloader waiting for
 * activation answers within a byte time (AN3155 §2: it measures the 0x7F and ACKs at once); USB
 * adapters add up to a latency-timer tick or two (16 ms on FTDI parts by default). One that is
 * already synchronised stays silent until a second byte completes its command pair, so waiting the
 * full window on the first byte only delays the NACK that the second one gets. The later attempts keep
 * the full window for a bootloader that is still starting after reset.
 */
const QUICK_FIRST_MS = 50;

const noop = (): void => {};

export class UsartLink implements Link {
  readonly transport: StreamTransport;
  readonly policy: TimeoutPolicy;
  #device: DeviceInfo | undefined;
  readonly #lock = new SerialQueue();
  readonly #log: Logger;
  readonly #trace: boolean;
  readonly #activationTimeoutMs: number;
  readonly #activationAttempts: number;
  readonly #resyncRounds: number;
  readonly #io: LinkIo;

  constructor(transport: StreamTransport, options: UsartLinkOptions = {}) {
    this.transport = transport;
    this.policy = { ...DEFAULT_TIMEOUT_POLICY, ...options.timeouts };
    this.#log = (options.logger ?? silentLogger).child({ layer: "link", port: transport.description });
    this.#trace = this.#log.isLevelEnabled?.("trace") ?? false;
    this.#activationTimeoutMs = options.activationTimeoutMs ?? 500;
    this.#activationAttempts = options.activationAttempts ?? 2;
    this.#resyncRounds = options.resyncRounds ?? 3;
    this.#io = this.#makeIo();
  }

  get port(): string {
    return this.transport.description;
  }

  get stats(): { bytesWritten: number; bytesRead: number } {
    return this.transport.stats;
  }

  identify(device: DeviceInfo): void {
    this.#device = device;
  }

  wireMs(bytes: number): number {
    return wireMs(bytes, this.transport.baud);
  }

  exclusive<T>(fn: (io: LinkIo) => Promise<T>): Promise<T> {
    return this.#lock.run(() => fn(this.#io));
  }

  /**
   * AN3155 §2.1 activation: send 0x7F; ACK means the device just locked its baud rate. A device that
   * is already synchronised takes 0x7F as an opcode and waits for the complement: silence after the
   * first 0x7F, NACK after the second. NACK on the first try means a half-sent pair was pending
   * (the previous session was not closed properly): the pair is now complete and the link aligned.
   */
  activate(): Promise<ActivationOutcome> {
    return this.exclusive(() => this.#activate(this.#activationAttempts, this.#activationTimeoutMs, true));
  }

  resync(reason: string): Promise<void> {
    return this.exclusive(() => this.#resync(reason, this.#resyncRounds));
  }

  /**
   * Recovery at connect, for a bootloader that did not answer 0x7F: the previous session may have
   * been killed mid-frame (or line noise started one), leaving the ROM waiting for the rest of an
   * address, a count or a data block — it then takes every 0x7F as one more byte of that frame and
   * never answers. `rounds` bursts (see RESYNC_BURST) complete the pending frame, then activation
   * aligns the pairs. A module that is not in its bootloader at all stays silent: the caller then
   * reports the first failure, with its wiring advice.
   */
  recover(reason: string, rounds: number): Promise<void> {
    return this.exclusive(() => this.#resync(reason, rounds));
  }

  #makeIo(): LinkIo {
    const device = (): DeviceInfo | undefined => this.#device;
    return {
      kind: "usart",
      port: this.transport.description,
      get device() {
        return device();
      },
      timeout: (bytes, deviceMs = 0) => replyTimeoutMs(this.policy, this.transport.baud, bytes, deviceMs),
      command: (code, step) =>
        this.#sendForAck(commandFrame(code), step, replyTimeoutMs(this.policy, this.transport.baud, 3)),
      sendForAck: (frame, step, timeoutMs) => this.#sendForAck(frame, step, timeoutMs),
      sendForReply: (frame, length, step, timeoutMs) => this.#sendForReply(frame, length, step, timeoutMs),
      read: (length, step, timeoutMs) => this.#read(length, step, timeoutMs),
      readAck: async (step, timeoutMs) =>
        this.#checkAck((await this.#read(1, step, timeoutMs, "ack timeout"))[0]!, step),
      reactivateAfterReset: (typicalMs, budgetMs) => this.#reactivateAfterReset(typicalMs, budgetMs),
    };
  }

  async #sendForAck(frame: Uint8Array, step: Step, timeoutMs: number): Promise<void> {
    const [status] = await this.#sendForReply(frame, 1, step, timeoutMs, "ack timeout");
    this.#checkAck(status!, step);
  }

  /** Register the reader, then write (one call), then wait: a reply can never arrive unobserved. */
  async #sendForReply(
    frame: Uint8Array,
    length: number,
    step: Step,
    timeoutMs: number,
    reason: LinkFailure = "response timeout",
  ): Promise<Uint8Array> {
    const reply = this.transport.read(length, timeoutMs);
    reply.catch(noop); // observed below; this only keeps a write failure from leaving it unhandled
    if (this.#trace) this.#log.trace({ dir: "tx", step, hex: hex(frame) }, "-->");
    await this.transport.write(frame);
    return this.#settle(reply, length, step, timeoutMs, reason);
  }

  #read(
    length: number,
    step: Step,
    timeoutMs: number,
    reason: LinkFailure = "response timeout",
  ): Promise<Uint8Array> {
    return this.#settle(this.transport.read(length, timeoutMs), length, step, timeoutMs, reason);
  }

  async #settle(
    reply: Promise<Uint8Array>,
    length: number,
    step: Step,
    timeoutMs: number,
    reason: LinkFailure,
  ): Promise<Uint8Array> {
    try {
      const bytes = await reply;
      if (this.#trace) this.#log.trace({ dir: "rx", step, hex: hex(bytes) }, "<--");
      return bytes;
    } catch (error) {
      if (error instanceof TransportError && error.code === "timeout") {
        const what = reason === "ack timeout" ? "no ACK" : `no reply (${length} bytes expected)`;
        throw new BootloaderError(
          "timeout",
          `${this.port}: ${describeStep(step)}: ${what} within ${timeoutMs} ms`,
          { port: this.port, ...stepContext(step), reason, timeoutMs },
          { cause: error },
        );
      }
      throw error;
    }
  }

  #checkAck(status: number, step: Step): void {
    if (status === ACK) return;
    const nack = status === NACK;
    throw new BootloaderError(
      nack ? "nack" : "unexpected-byte",
      `${this.port}: ${describeStep(step)}: device answered ${byteName(status)}${nack ? "" : " instead of ACK/NACK"}`,
      {
        port: this.port,
        ...stepContext(step),
        reason: (nack ? "nack" : "unexpected byte") satisfies LinkFailure,
        byte: status,
      },
    );
  }

  async #activate(attempts: number, timeoutMs: number, loud: boolean): Promise<ActivationOutcome> {
    this.transport.discardInput();
    const step: Step = { command: "activation", phase: "0x7F" };
    const quickMs = Math.min(timeoutMs, QUICK_FIRST_MS + 2 * wireMs(1, this.transport.baud));
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const answer = await this.#activationAnswer(attempt === 1 && attempts > 1 ? quickMs : timeoutMs);
      if (answer === ACK) {
        this.#log.debug({ attempt: `${attempt}/${attempts}` }, "bootloader activated");
        return "synced";
      }
      if (answer === NACK) {
        // Silence then NACK is the documented "already synchronised" answer; NACK at once means a
        // half-sent command byte was pending from an earlier session (stm32flash warns the same).
        if (attempt === 1 && loud)
          this.#log.warn({}, "bootloader was already active; the previous session was not closed properly");
        else this.#log.debug({ attempt: `${attempt}/${attempts}` }, "bootloader already synchronised");
        return "already-synced";
      }
      if (answer === undefined) {
        if (loud) this.#log.debug({ attempt: `${attempt}/${attempts}`, timeoutMs }, "no answer to 0x7F");
      } else {
        this.#log.debug({ attempt: `${attempt}/${attempts}`, byte: answer }, "unexpected answer to 0x7F");
        this.transport.discardInput();
      }
    }
    const baud = this.transport.baud;
    throw new BootloaderError(
      "no-answer",
      `${this.port}: no answer from the bootloader to ${attempts} activation bytes (0x7F, up to ${timeoutMs} ms each) at ${baud} baud: ` +
        "check the baud rate, that parity is even (8E1), the TX/RX wiring, and that the module is in its bootloader (BOOT0 high at reset)",
      { port: this.port, ...stepContext(step), baud, attempts, timeoutMs },
    );
  }

  /** One 0x7F and the first meaningful byte after it, skipping stray 0x00s; undefined on silence. */
  async #activationAnswer(timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    let reply = this.transport.read(1, timeoutMs);
    reply.catch(noop);
    if (this.#trace) this.#log.trace({ dir: "tx", hex: "7f" }, "-->");
    await this.transport.write(Uint8Array.of(ACTIVATE));
    for (;;) {
      let byte: number;
      try {
        byte = (await reply)[0]!;
      } catch (error) {
        if (error instanceof TransportError && error.code === "timeout") return undefined;
        throw error;
      }
      if (this.#trace) this.#log.trace({ dir: "rx", hex: hex(Uint8Array.of(byte)) }, "<--");
      const left = deadline - Date.now();
      if (byte !== STRAY_AFTER_RESET || left <= 0) return byte;
      this.#log.debug({}, "skipped a stray 0x00 after reset");
      reply = this.transport.read(1, left);
    }
  }

  /**
   * Recovers the frame boundary: a burst of 0xFF completes whatever frame the device was still
   * receiving (see RESYNC_BURST), the answers are drained, and activation then aligns the byte pairs
   * (and re-activates a device that reset). Bounded, each round logged as "attempt i/N".
   */
  async #resync(reason: string, rounds: number): Promise<void> {
    const burst = new Uint8Array(RESYNC_BURST).fill(0xff);
    const quietMs = Math.ceil(
      this.policy.latencyMs +
        wireMs(RESYNC_BURST, this.transport.baud) * this.policy.wireMargin +
        deviceWorstCase.program(this.#device, 256),
    );
    let lastError: unknown;
    for (let round = 1; round <= rounds; round++) {
      this.#log.warn({ attempt: `${round}/${rounds}`, reason }, "resynchronising with the bootloader");
      this.transport.discardInput();
      await this.transport.write(burst);
      await this.#drain(quietMs, RESYNC_BURST * 2);
      try {
        await this.#activate(this.#activationAttempts, this.#activationTimeoutMs, false);
      } catch (error) {
        if (!(error instanceof BootloaderError)) throw error;
        lastError = error;
        continue;
      }
      // A real answer to 0x7F is one byte followed by silence. More bytes mean the device was still
      // busy with the failed operation and the "answer" was its late reply: go round again.
      if (await this.#drain(quietMs, RESYNC_BURST * 2)) return;
      lastError = new BootloaderError(
        "unexpected-byte",
        `${this.port}: the device was still answering earlier frames during resynchronisation`,
        {
          port: this.port,
        },
      );
      this.#log.debug(
        { attempt: `${round}/${rounds}` },
        "late replies after activation; resynchronising again",
      );
    }
    throw new BootloaderError(
      "no-answer",
      `${this.port}: lost the bootloader after ${reason} and could not resynchronise in ${rounds} rounds: ` +
        "the module may have reset or lost power",
      { port: this.port, reason, rounds: rounds },
      { cause: lastError },
    );
  }

  /**
   * Reads and drops bytes until the line has been quiet for `quietMs` (at most `limit` bytes).
   * True when nothing arrived at all.
   */
  async #drain(quietMs: number, limit: number): Promise<boolean> {
    for (let n = 0; n < limit; n++) {
      try {
        await this.transport.read(1, quietMs);
      } catch (error) {
        if (error instanceof TransportError && error.code === "timeout") return n === 0;
        throw error;
      }
    }
    this.transport.discardInput();
    return false;
  }

  async #reactivateAfterReset(typicalMs: number, budgetMs: number): Promise<void> {
    const started = Date.now();
    if (typicalMs > 0) await delay(typicalMs);
    const pollMs = Math.min(this.#activationTimeoutMs, 250);
    let polls = 0;
    for (;;) {
      polls++;
      try {
        await this.#activate(1, pollMs, false);
        this.#log.debug({ polls, elapsedMs: Date.now() - started }, "re-activated after device reset");
        return;
      } catch (error) {
        if (!(error instanceof BootloaderError) || Date.now() - started >= budgetMs) {
          throw new BootloaderError(
            "no-answer",
            `${this.port}: the device did not come back to its bootloader within ${budgetMs} ms after a reset: ` +
              "check that BOOT0 stays high (or re-enter the bootloader) and try again",
            { port: this.port, budgetMs, polls },
            { cause: error },
          );
        }
      }
    }
  }
}

function describeStep(step: Step): string {
  return `${step.command}${step.address !== undefined ? ` at 0x${step.address.toString(16).toUpperCase().padStart(8, "0")}` : ""} (${step.phase})`;
}

function stepContext(step: Step): Record<string, unknown> {
  return step.address !== undefined
    ? { command: step.command, phase: step.phase, address: step.address }
    : { command: step.command, phase: step.phase };
}
