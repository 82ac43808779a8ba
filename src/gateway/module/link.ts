/**
 * How the engine reaches one module: its entry method into the ROM bootloader (design decision 5:
 * GPIO BOOT0/NRST, the adapter's DTR/RTS, a command to the running application, or none), the
 * bootloader session (identity checked against the configuration), the exit (Go or reset), and the
 * application's line for health probes. Every port it opens is tracked so that a watchdog expiry
 * or a halt can close them all at once.
 */
import { Bootloader } from "../../targets/index.js";
import {
  applicationExit,
  bootloaderEntry,
  parseLineSequence,
  runLineSequence,
  type LineStep,
} from "../../targets/index.js";
import type { I2cTransport, StreamTransport } from "../../targets/index.js";
import { parseI2cBus } from "../../targets/index.js";
import { describeError, isSubflashError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { addr } from "../../util/logger.js";
import { parseByteString } from "../config/byte-string.js";
import type { ModuleConfig } from "../config/config.js";
import { i2cOf, moduleDevice, portOf, usartOf } from "../config/config.js";
import { GatewayError } from "../errors.js";
import type { ResetLines } from "../../targets/index.js";
import { TransportError } from "../../targets/index.js";
import type { HaltGate } from "../run/halt.js";
import type { SerialSettings, TargetFactory } from "./targets.js";
import { delay } from "./watchdog.js";

/** What a module's bootloader is reached through: its USART line, or its address on an I2C bus. */
export type BootTransport = StreamTransport | I2cTransport;

/** An open bootloader session and the port it runs on. */
export interface BootSession {
  bootloader: Bootloader;
  transport: BootTransport;
}

export class ModuleLink {
  readonly module: ModuleConfig;
  readonly #factory: TargetFactory;
  readonly #gate: HaltGate;
  readonly #log: Logger;
  readonly #open = new Set<BootTransport>();
  #lines: ResetLines | undefined;

  constructor(module: ModuleConfig, factory: TargetFactory, gate: HaltGate, log: Logger) {
    this.module = module;
    this.#factory = factory;
    this.#gate = gate;
    this.#log = log;
    gate.onHalt(() => this.abort());
  }

  get port(): string {
    return portOf(this.module);
  }

  /** Puts the module into its ROM bootloader and identifies it. Throws GatewayError with a stable code. */
  async enterBootloader(signal: AbortSignal): Promise<BootSession> {
    const entry = this.module.entry;
    let transport: BootTransport;
    try {
      switch (entry.method) {
        case "none":
          transport = await this.#openBootloaderLine();
          break;
        case "gpio":
          await this.#pins({ boot0: true, reset: true });
          await delay(entry.resetPulseMs, signal);
          await this.#pins({ reset: false });
          await delay(entry.settleMs, signal);
          transport = await this.#openBootloaderLine();
          break;
        case "serial-lines": {
          const line = await this.#openUsartLine();
          transport = line;
          const steps = entry.enter ? parseLineSequence(entry.enter) : bootloaderEntry(lineOptions(entry));
          await this.#playLines(line, steps, signal);
          line.discardInput();
          break;
        }
        case "app-command": {
          const app = await this.openApplication({
            path: entry.path ?? this.port,
            baud: entry.baud,
            parity: entry.parity,
          });
          try {
            await this.#gate.pass(() => app.write(parseByteString(entry.send)));
          } finally {
            await this.#close(app);
          }
          await delay(entry.settleMs, signal);
          transport = await this.#openBootloaderLine();
          break;
        }
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new GatewayError(
        "bootloader-unreachable",
        `module ${this.module.id}: entering the bootloader (${entry.method}) failed: ${describeError(error)}`,
        {
          module: this.module.id,
          port: this.port,
          method: entry.method,
        },
        { cause: error },
      );
    }
    let bootloader: Bootloader;
    try {
      bootloader = await this.#gate.pass(() => Bootloader.connect(transport, { logger: this.#log }));
    } catch (error) {
      await this.#close(transport);
      if (signal.aborted) throw signal.reason;
      throw new GatewayError(
        "bootloader-unreachable",
        `module ${this.module.id}: no bootloader answer on ${this.port} after ${entry.method} entry: ${describeError(error)}`,
        {
          module: this.module.id,
          port: this.port,
          method: entry.method,
          cause: isSubflashError(error) ? error.code : undefined,
        },
        { cause: error },
      );
    }
    const expected = moduleDevice(this.module);
    if (bootloader.pid !== expected.pid) {
      await this.#close(transport);
      throw new GatewayError(
        "wrong-device",
        `module ${this.module.id}: the bootloader on ${this.port} reports product ID 0x${bootloader.pid.toString(16)}, the configuration expects ${expected.name} (0x${expected.pid.toString(16)})`,
        { module: this.module.id, port: this.port, pid: bootloader.pid, expected: expected.pid },
      );
    }
    return { bootloader, transport };
  }

  /**
   * Leaves the bootloader so that the module runs from flash: Go to `address` (the selector or the
   * single slot), or a reset with BOOT0 low through the entry lines.
   */
  async leave(session: BootSession, address: number): Promise<void> {
    const { bootloader, transport } = session;
    try {
      if (this.module.exit === "go") {
        this.#log.debug({ address: addr(address) }, "go");
        await this.#gate.pass(() => bootloader.go(address));
        // BOOT0 back low, so that a later reset (watchdog, crash) boots flash and not the bootloader.
        const entry = this.module.entry;
        if (entry.method === "gpio") await this.#pins({ boot0: false });
        if (entry.method === "serial-lines" && transport.kind === "stream")
          await this.#playLines(transport, [
            { kind: "lines", lines: { [entry.boot0]: !entry.boot0ActiveHigh } },
          ]);
        return;
      }
      await this.resetIntoApplication(transport);
    } finally {
      await this.#close(transport);
    }
  }

  /** Resets the module with BOOT0 low (gpio or serial-lines exit sequence). */
  async resetIntoApplication(open?: BootTransport): Promise<void> {
    const entry = this.module.entry;
    if (entry.method === "gpio") {
      await this.#pins({ boot0: false, reset: true });
      await delay(entry.resetPulseMs);
      await this.#pins({ reset: false });
      return;
    }
    if (entry.method === "serial-lines") {
      const steps = entry.exit ? parseLineSequence(entry.exit) : applicationExit(lineOptions(entry));
      const transport = open?.kind === "stream" ? open : await this.#openUsartLine();
      try {
        await this.#playLines(transport, steps);
      } finally {
        if (transport !== open) await this.#close(transport);
      }
      return;
    }
    throw new GatewayError(
      "internal",
      `module ${this.module.id}: no way to reset with entry method ${entry.method}`,
      { module: this.module.id },
    );
  }

  /** Opens the application's line (health probe, app command). The caller closes it. */
  async openApplication(settings: SerialSettings): Promise<StreamTransport> {
    const transport = await this.#gate.pass(() =>
      this.#factory.openSerial(this.module, settings, "application"),
    );
    return this.#track(transport);
  }

  /** Closes a session's port. */
  closeSession(session: BootSession): Promise<void> {
    return this.#close(session.transport);
  }

  /** Closes every port this link has open (watchdog expiry, halt): blocked reads fail at once. */
  abort(): void {
    for (const transport of this.#open) void transport.close().catch(() => {});
    this.#open.clear();
  }

  async dispose(): Promise<void> {
    this.abort();
    await this.#lines?.close();
    this.#lines = undefined;
  }

  /** The bootloader's line: the module's I2C address on its bus, or its USART. */
  async #openBootloaderLine(): Promise<BootTransport> {
    const i2c = i2cOf(this.module);
    if (!i2c) return this.#openUsartLine();
    const factory = this.#factory;
    if (!factory.openI2c) {
      throw new GatewayError(
        "internal",
        `module ${this.module.id}: the target factory cannot open I2C buses`,
        { module: this.module.id },
      );
    }
    const settings = { bus: parseI2cBus(i2c.bus), address: i2c.address, clockHz: i2c.clockHz };
    return this.#track(await this.#gate.pass(() => factory.openI2c!(this.module, settings)));
  }

  async #openUsartLine(): Promise<StreamTransport> {
    const { path, baud, parity } = usartOf(this.module);
    const transport = await this.#gate.pass(() =>
      this.#factory.openSerial(this.module, { path, baud, parity }, "bootloader"),
    );
    return this.#track(transport);
  }

  #track<T extends BootTransport>(transport: T): T {
    this.#open.add(transport);
    return transport;
  }

  async #close(transport: BootTransport): Promise<void> {
    this.#open.delete(transport);
    await transport.close().catch(() => {});
  }

  /** Plays DTR/RTS steps; each line change passes the halt gate, waits end early on abort. */
  #playLines(transport: StreamTransport, steps: readonly LineStep[], signal?: AbortSignal): Promise<void> {
    return runLineSequence({ setLines: (lines) => this.#gate.pass(() => transport.setLines(lines)) }, steps, {
      sleep: (ms) => delay(ms, signal),
    });
  }

  #pins(levels: { boot0?: boolean; reset?: boolean }): Promise<void> {
    this.#lines ??= this.#factory.resetLines(this.module);
    const lines = this.#lines;
    return this.#gate.pass(() =>
      lines.set(levels).catch((error: unknown) => {
        // A GPIO line that cannot be driven means the bootloader cannot be entered (design decision 5).
        if (error instanceof TransportError && error.code === "gpio-failed") {
          throw new GatewayError(
            "bootloader-unreachable",
            error.message,
            { ...error.context },
            { cause: error },
          );
        }
        throw error;
      }),
    );
  }
}

function lineOptions(entry: Extract<ModuleConfig["entry"], { method: "serial-lines" }>) {
  return {
    boot0: entry.boot0,
    reset: entry.reset,
    boot0ActiveHigh: entry.boot0ActiveHigh,
    resetActiveLow: entry.resetActiveLow,
    pulseMs: entry.pulseMs,
    settleMs: entry.settleMs,
  };
}
