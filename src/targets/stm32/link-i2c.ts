/**
 * The link layer of the I2C ROM bootloader (AN4221): the same Link / LinkIo seam as USART, built
 * from I2C transactions (docs/protocol.md §3.1–§3.3):
 * - every host frame is one write transaction, every ACK/NACK one 1-byte read transaction, every data
 *   reply one read transaction of a length known in advance (reads are frame-oriented: a reply
 *   cannot be read in pieces, see i2c-commands.ts for the Get length);
 * - no 0x7F activation: the bootloader is a slave at a fixed address and listens from reset;
 * - an ACK read may answer BUSY (0x76) while the device works (No-Stretch commands): the link polls
 *   again until ACK or NACK, bounded by the budget the command gives for the wait (the device
 *   table's worst case × margin). BUSY is accepted on every ACK read, as stm32flash does;
 * - with the plain (stretching) commands the same read simply completes late: the device holds SCL
 *   low until the flash work is done. Adapters that give up earlier report a timeout; the message
 *   says so.
 * Resynchronisation has no frame boundary to find (transactions delimit frames); it brings the
 * device's command state machine back to "waiting for a command" (see `#resync`).
 */
import { setTimeout as delay } from "node:timers/promises";
import { TransportError } from "../transport/errors.js";
import { i2cTransactionMs } from "../transport/i2c-types.js";
import type { I2cTransport } from "../transport/transport.js";
import { hex, silentLogger, type Logger } from "../../util/logger.js";
import type { DeviceInfo } from "./device.js";
import { BootloaderError } from "./errors.js";
import { ACK, BUSY, NACK, byteName, commandFrame } from "./link-frames.js";
import type { Link, LinkFailure, LinkIo, Step } from "./link.js";
import { DEFAULT_TIMEOUT_POLICY, type TimeoutPolicy } from "./link-timeouts.js";
import { Opcode } from "./commands/codes.js";
import { SerialQueue } from "../../util/serial-queue.js";

export interface I2cLinkOptions {
  logger?: Logger;
  /** Timeout policy overrides. The default latency allowance is 100 ms (no USB-serial latency timer on I2C). */
  timeouts?: Partial<TimeoutPolicy>;
  /** Pause between BUSY polls, ms. Default 0: poll back to back (one poll is a ~50 µs transaction at 400 kHz). */
  busyPollMs?: number;
  /** Resynchronisation rounds before declaring the device lost (default 6). */
  resyncRounds?: number;
  /** Pause after an address NACK while waiting for a device to come back from a reset, ms (default 5). */
  reconnectPollMs?: number;
}

export const I2C_TIMEOUT_POLICY: TimeoutPolicy = { ...DEFAULT_TIMEOUT_POLICY, latencyMs: 100 };

/** Frame of a command the device does not have (0xFF, complement 0x00): a device waiting for a command answers NACK. */
const RESYNC_FRAME = commandFrame(0xff);
/** Consecutive NACKs that prove the device is at a command boundary (one could close a half-received frame). */
const RESYNC_NACKS = 2;

/** Reasons a wait failed, with BUSY polling added to the USART link's set. */
export type I2cLinkFailure = LinkFailure | "busy timeout" | "address nack";

const noop = (): void => {};

export class I2cLink implements Link {
  readonly kind = "i2c";
  readonly transport: I2cTransport;
  readonly policy: TimeoutPolicy;
  #device: DeviceInfo | undefined;
  readonly #lock = new SerialQueue();
  /** The transaction the link last started; a new one waits for it (a timed-out read may still be in flight). */
  readonly #transactions = new SerialQueue();
  readonly #log: Logger;
  readonly #trace: boolean;
  readonly #busyPollMs: number;
  readonly #resyncRounds: number;
  readonly #reconnectPollMs: number;
  readonly #io: LinkIo;
  /** BUSY answers seen so far (statistics for benches and logs). */
  busyPolls = 0;
  /** The device has answered at least once on this link (see #addressLost). */
  #contacted = false;

  constructor(transport: I2cTransport, options: I2cLinkOptions = {}) {
    this.transport = transport;
    this.policy = { ...I2C_TIMEOUT_POLICY, ...options.timeouts };
    this.#log = (options.logger ?? silentLogger).child({ layer: "link", port: transport.description });
    this.#trace = this.#log.isLevelEnabled?.("trace") ?? false;
    this.#busyPollMs = options.busyPollMs ?? 0;
    this.#resyncRounds = options.resyncRounds ?? 6;
    this.#reconnectPollMs = options.reconnectPollMs ?? 5;
    this.#io = this.#makeIo();
  }

  get port(): string {
    return this.transport.description;
  }

  get stats(): { bytesWritten: number; bytesRead: number } {
    return this.transport.stats;
  }

  get device(): DeviceInfo | undefined {
    return this.#device;
  }

  identify(device: DeviceInfo): void {
    this.#device = device;
  }

  /** Time `bytes` of payload take on the bus (9 bit times a byte), in ms. */
  wireMs(bytes: number): number {
    return (bytes * 9 * 1000) / this.transport.clockHz;
  }

  /**
   * Budget for a wait: `bytes` is every payload byte that crosses the bus before the awaited reply is
   * complete, `deviceMs` the worst-case device work in between. Two transactions' overhead included.
   */
  timeoutMs(bytes: number, deviceMs = 0): number {
    const wire =
      i2cTransactionMs(bytes, this.transport.clockHz) + i2cTransactionMs(0, this.transport.clockHz);
    return Math.ceil(
      this.policy.latencyMs + wire * this.policy.wireMargin + deviceMs * this.policy.deviceMargin,
    );
  }

  exclusive<T>(fn: (io: LinkIo) => Promise<T>): Promise<T> {
    return this.#lock.run(() => fn(this.#io));
  }

  resync(reason: string): Promise<void> {
    return this.exclusive(() => this.#resync(reason));
  }

  #makeIo(): LinkIo {
    const device = (): DeviceInfo | undefined => this.#device;
    return {
      kind: "i2c",
      port: this.transport.description,
      get device() {
        return device();
      },
      timeout: (bytes, deviceMs = 0) => this.timeoutMs(bytes, deviceMs),
      command: async (code, step) => {
        await this.#write(commandFrame(code), step);
        await this.#readAck(step, this.timeoutMs(3));
      },
      sendForAck: async (frame, step, timeoutMs) => {
        await this.#write(frame, step);
        await this.#readAck(step, timeoutMs);
      },
      sendForReply: async (frame, length, step, timeoutMs) => {
        await this.#write(frame, step);
        return this.#read(length, step, timeoutMs);
      },
      read: (length, step, timeoutMs) => this.#read(length, step, timeoutMs),
      readAck: (step, timeoutMs) => this.#readAck(step, timeoutMs),
      reactivateAfterReset: (typicalMs, budgetMs) => this.#reconnect(typicalMs, budgetMs),
    };
  }

  /** One transaction, started after the previous one has settled. */
  #transaction<T>(start: () => Promise<T>): Promise<T> {
    return this.#transactions.run(start);
  }

  async #write(frame: Uint8Array, step: Step): Promise<void> {
    if (this.#trace) this.#log.trace({ dir: "tx", step, hex: hex(frame) }, "-->");
    try {
      await this.#transaction(() => this.transport.writeTransaction(frame));
    } catch (error) {
      throw this.#addressLost(error, step);
    }
    this.#contacted = true;
  }

  /** One read transaction of `length` bytes, given up (as a timeout) after `timeoutMs`. */
  async #read(
    length: number,
    step: Step,
    timeoutMs: number,
    reason: I2cLinkFailure = "response timeout",
  ): Promise<Uint8Array> {
    const reply = this.#transaction(() => this.transport.readTransaction(length));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">(
      (resolve) => (timer = setTimeout(() => resolve("expired"), timeoutMs)),
    );
    try {
      const bytes = await Promise.race([reply, expired]);
      if (bytes === "expired") {
        reply.catch(noop);
        throw this.#timeout(
          step,
          reason,
          timeoutMs,
          `no ${reason === "ack timeout" ? "ACK" : `reply (${length} bytes expected)`} within ${timeoutMs} ms`,
        );
      }
      if (this.#trace) this.#log.trace({ dir: "rx", step, hex: hex(bytes) }, "<--");
      this.#contacted = true;
      return bytes;
    } catch (error) {
      throw this.#translate(error, step, length, reason, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads the status of a step: ACK passes, NACK and other bytes throw, BUSY (0x76) is polled again
   * until `timeoutMs` has passed since the first read (AN4221 No-Stretch commands, §3.3).
   */
  async #readAck(step: Step, timeoutMs: number): Promise<void> {
    const started = performance.now();
    let polls = 0;
    for (;;) {
      // Each poll gets at least a one-byte transaction's own budget: the deadline is checked on BUSY,
      // so a poll that is merely slow to complete is not taken for a device that never answers.
      const left = Math.max(this.timeoutMs(1), Math.ceil(timeoutMs - (performance.now() - started)));
      const [status] = await this.#read(1, step, left, "ack timeout");
      if (status === ACK) {
        if (polls > 0 && this.#trace) this.#log.trace({ step, busyPolls: polls }, "BUSY ended");
        return;
      }
      if (status !== BUSY) throw this.#statusError(status!, step);
      polls++;
      this.busyPolls++;
      const elapsed = performance.now() - started;
      if (elapsed >= timeoutMs) {
        throw this.#timeout(
          step,
          "busy timeout",
          timeoutMs,
          `the device was still BUSY (0x76) after ${Math.round(elapsed)} ms and ${polls} polls (budget ${timeoutMs} ms, the device's worst case with margin)`,
          { busyPolls: polls },
        );
      }
      if (this.#busyPollMs > 0) await delay(this.#busyPollMs);
    }
  }

  #statusError(status: number, step: Step): BootloaderError {
    const nack = status === NACK;
    return new BootloaderError(
      nack ? "nack" : "unexpected-byte",
      `${this.port}: ${describeStep(step)}: device answered ${byteName(status)}${nack ? "" : " instead of ACK/NACK/BUSY"}`,
      {
        port: this.port,
        ...stepContext(step),
        reason: (nack ? "nack" : "unexpected byte") satisfies LinkFailure,
        byte: status,
      },
    );
  }

  #timeout(
    step: Step,
    reason: I2cLinkFailure,
    timeoutMs: number,
    what: string,
    extra: Record<string, unknown> = {},
  ): BootloaderError {
    return new BootloaderError("timeout", `${this.port}: ${describeStep(step)}: ${what}`, {
      port: this.port,
      ...stepContext(step),
      reason,
      timeoutMs,
      ...extra,
    });
  }

  /**
   * Transport failures that a retry can cure become BootloaderErrors (the flasher retries those): the
   * adapter's own timeout (clock stretched too long, or a stuck bus) and a short read. An address
   * NACK stays a TransportError "i2c-nack": the device is not (or no longer) there.
   */
  /**
   * An address NACK before the device ever answered stays the transport's "i2c-nack" (nothing at
   * that address). Once the session is under way it means the device stopped answering for a while
   * (it reset, lost power, or a glitch on the bus): reported as a timeout, so that the flasher
   * resynchronises (which waits for the address to be acknowledged again) and retries.
   */
  #addressLost(error: unknown, step: Step): unknown {
    if (!(error instanceof TransportError) || error.code !== "i2c-nack" || !this.#contacted) return error;
    return new BootloaderError(
      "timeout",
      `${this.port}: ${describeStep(step)}: the device stopped acknowledging its address (reset, power loss or a bus glitch)`,
      { port: this.port, ...stepContext(step), reason: "address nack" },
      { cause: error },
    );
  }

  #translate(error: unknown, step: Step, length: number, reason: I2cLinkFailure, timeoutMs: number): unknown {
    if (!(error instanceof TransportError)) return error;
    if (error.code === "i2c-nack") return this.#addressLost(error, step);
    if (error.code === "timeout") {
      const stretch =
        reason === "ack timeout"
          ? ": the adapter gave up while the device held SCL low (clock stretching during flash work); No-Stretch commands (bootloader v1.1+) or a longer adapter timeout avoid it"
          : ": the bus or the device did not complete the read";
      return new BootloaderError(
        "timeout",
        `${this.port}: ${describeStep(step)}: transaction timed out${stretch}`,
        {
          port: this.port,
          ...stepContext(step),
          reason,
          timeoutMs,
        },
        { cause: error },
      );
    }
    if (error.code === "io-error" && error.context.got !== undefined) {
      return new BootloaderError(
        "bad-reply",
        `${this.port}: ${describeStep(step)}: short read (${Number(error.context.got)} of ${length} bytes)`,
        {
          port: this.port,
          ...stepContext(step),
          length,
        },
        { cause: error },
      );
    }
    return error;
  }

  /**
   * Brings the device back to "waiting for a command". I2C transactions delimit frames, so there is
   * no byte alignment to recover; what can be off is the device's command state (it may still wait
   * for the rest of a phase, or have a reply nobody read). Each round writes the command frame of a
   * non-existent opcode (FF 00) and reads the status: a device at a command boundary NACKs it; a
   * device inside a phase takes the bytes as part of it, and ends that phase with NACK (bad
   * checksum) or gives up after its own timeout. Two NACKs in a row prove the boundary.
   */
  async #resync(reason: string): Promise<void> {
    const step: Step = { command: "resync", phase: "FF 00" };
    let nacks = 0;
    let lastError: unknown;
    for (let round = 1; round <= this.#resyncRounds; round++) {
      this.#log.warn(
        { attempt: `${round}/${this.#resyncRounds}`, reason },
        "resynchronising with the bootloader",
      );
      try {
        await this.#write(RESYNC_FRAME, step);
        const [status] = await this.#read(1, step, this.timeoutMs(3), "ack timeout");
        nacks = status === NACK ? nacks + 1 : 0;
        if (nacks >= RESYNC_NACKS) return;
        continue;
      } catch (error) {
        if (!isRecoverable(error)) throw error;
        lastError = error;
        nacks = 0;
      }
      await delay(this.#reconnectPollMs);
    }
    throw new BootloaderError(
      "no-answer",
      `${this.port}: lost the bootloader after ${reason} and could not resynchronise in ${this.#resyncRounds} rounds: the module may have reset or lost power`,
      { port: this.port, reason, rounds: this.#resyncRounds },
      { cause: lastError },
    );
  }

  /**
   * After a command that resets the device (§1.4): wait `typicalMs` (the device works and reboots and
   * does not acknowledge its address meanwhile), then contact it with Get Version until it answers
   * or `budgetMs` has passed. No 0x7F on I2C: the bootloader listens on its address from reset.
   */
  async #reconnect(typicalMs: number, budgetMs: number): Promise<void> {
    const started = performance.now();
    if (typicalMs > 0) await delay(typicalMs);
    const step: Step = { command: "Get Version", phase: "after reset" };
    let polls = 0;
    for (;;) {
      polls++;
      try {
        await this.#write(commandFrame(Opcode.getVersion), step);
        await this.#readAck(step, this.timeoutMs(3));
        await this.#read(1, step, this.timeoutMs(1));
        await this.#readAck(step, this.timeoutMs(1));
        this.#log.debug(
          { polls, elapsedMs: Math.round(performance.now() - started) },
          "bootloader answers again after a reset",
        );
        return;
      } catch (error) {
        if (!isRecoverable(error) || performance.now() - started >= budgetMs) {
          throw new BootloaderError(
            "no-answer",
            `${this.port}: the device did not come back to its bootloader within ${budgetMs} ms after a reset: ` +
              "check that BOOT0 stays high (or re-enter the bootloader) and try again",
            { port: this.port, budgetMs, polls },
            { cause: error },
          );
        }
      }
      await delay(this.#reconnectPollMs);
    }
  }
}

/** Failures that mean "not there yet / not in step": address NACK, timeouts, stray status bytes. */
function isRecoverable(error: unknown): boolean {
  if (error instanceof TransportError) return error.code === "i2c-nack" || error.code === "timeout";
  return (
    error instanceof BootloaderError &&
    (error.code === "timeout" ||
      error.code === "nack" ||
      error.code === "unexpected-byte" ||
      error.code === "bad-reply")
  );
}

function describeStep(step: Step): string {
  return `${step.command}${step.address !== undefined ? ` at 0x${step.address.toString(16).toUpperCase().padStart(8, "0")}` : ""} (${step.phase})`;
}

function stepContext(step: Step): Record<string, unknown> {
  return step.address !== undefined
    ? { command: step.command, phase: step.phase, address: step.address }
    : { command: step.command, phase: step.phase };
}
