/**
 * A simulated STM32 module: ROM bootloader (AN3155 over USART, AN4221 over I2C), flash, option
 * bytes, pins, power, application model and faults. Waiting for a host, the bootloader listens on
 * both interfaces; the first one addressed (0x7F on USART, its slave address on I2C) holds the
 * session until the next reset (AN2606 interface selection). I2C goes through a simulated bus:
 * `createSimI2cBus().attach(sim)` (i2c-bus.ts). Design decision 2 in design.md: used by the tests, `subflash sim`
 * (on a pseudo-terminal, where stm32flash can talk to it), `subflash demo` and the benchmarks.
 *
 * Pins: BOOT0 selects what a reset boots (high: bootloader, waiting for 0x7F; low: application);
 * NRST low holds the module in reset (state "off"), its rising edge boots. A serial adapter's DTR/RTS
 * reach the pins through `wiring` (default: RTS → BOOT0, asserted = high; DTR → NRST, asserted =
 * reset held).
 */
import { addr, silentLogger, type Logger } from "../../util/logger.js";
import type { DeviceInfo } from "../../targets/index.js";
import { resolveDevice } from "../../targets/index.js";
import type { SerialLines, StreamTransport } from "../../targets/index.js";
import { TypedEmitter } from "../../util/events.js";
import { AppRunner, isResetStub } from "./application.js";
import { BootloaderCore, type CoreExit, type CoreSession } from "./core.js";
import { SimError } from "./errors.js";
import { FaultList, type ActiveFault, type SimFault } from "./faults.js";
import { I2cFrontEnd, type SimI2cEndpoint } from "./i2c-front-end.js";
import { DEFAULT_I2C_VERSION, defaultI2cCommands, NO_STRETCH_OF } from "./i2c-opcodes.js";
import { SimHostEnd } from "./host-end.js";
import { SimMemory } from "./memory.js";
import { defaultCommands, Op, opcodeKey } from "./opcodes.js";
import { FlashPersistence } from "./persistence.js";
import {
  DEFAULT_WIRING,
  emptyStats,
  type LineWire,
  type SimOptions,
  type SimState,
  type SimStats,
  type SimWiring,
} from "./types.js";
import { UsartFrontEnd } from "./usart.js";

export interface SimEvents {
  state: [SimState];
  /** A bootloader command finished (after its last reply was queued). */
  command: [{ opcode: number }];
}

/** A stream the module can sit on in tty mode: a pty opened with serialport, or any duplex stream. */
export interface SimStream {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  write(chunk: Uint8Array): unknown;
}

export class SimulatedModule extends TypedEmitter<SimEvents> {
  readonly device: DeviceInfo;
  /** Protocol version byte (Get, Get Version). */
  readonly version: number;
  /** The Get list (also the accepted commands). */
  readonly commands: readonly number[];
  /** I2C protocol version byte (AN4221: 0x10, 0x11, 0x12). */
  readonly i2cVersion: number;
  /** The I2C Get list (also the I2C commands accepted). */
  readonly i2cCommands: readonly number[];
  readonly baud: number;
  readonly timing: boolean;
  /** Backdoor to the memory: `read`, `load`, areas, flash, option state. */
  readonly memory: SimMemory;
  readonly stats: SimStats = emptyStats();
  readonly #faults = new FaultList();
  readonly #usart: UsartFrontEnd;
  readonly #core: BootloaderCore;
  readonly #i2c: I2cFrontEnd;
  readonly #i2cCore: BootloaderCore;
  readonly #options: SimOptions;
  readonly #wiring: SimWiring;
  readonly #log: Logger;
  readonly #persistence: FlashPersistence | undefined;
  readonly #app: AppRunner;
  #state: SimState = "off";
  #powered = false;
  #pins: { boot0: boolean; nrst: boolean };
  #writeFails = false;
  readonly #hostEnds = new Set<SimHostEnd>();
  #stream: { stream: SimStream; listener: (chunk: Uint8Array) => void } | undefined;
  #closed = false;

  constructor(options: SimOptions) {
    super();
    this.#options = options;
    this.device = typeof options.device === "string" ? resolveDevice(options.device) : options.device;
    this.version = options.bootloaderVersion ?? this.device.bootloader.usartVersion;
    this.commands = [...(options.commands ?? defaultCommands(this.version))];
    this.i2cVersion = options.i2cVersion ?? this.device.bootloader.i2cVersion ?? DEFAULT_I2C_VERSION;
    this.i2cCommands = [...(options.i2cCommands ?? defaultI2cCommands(this.i2cVersion))];
    this.baud = options.baud ?? 115200;
    this.timing = options.timing ?? true;
    this.#wiring = options.wiring ?? DEFAULT_WIRING;
    this.#log = (options.logger ?? silentLogger).child({
      module: "sim",
      device: this.device.aliases[0] ?? this.device.name,
    });
    this.#pins = { boot0: options.boot0 ?? true, nrst: true };
    validate(this);

    this.memory = new SimMemory(this.device);
    if (options.initialFlash) this.#loadInitialFlash(options.initialFlash);
    this.memory.setOptionState({ rdp: options.rdp ?? 0, wrp: new Set(options.wrp ?? []) });
    this.#persistence = options.flashFile ? FlashPersistence.open(options.flashFile, this.memory) : undefined;

    this.#core = new BootloaderCore({
      device: this.device,
      version: this.version,
      commands: this.commands,
      memory: this.memory,
      stats: this.stats,
      hooks: {
        send: (bytes) => this.#usart.send(bytes),
        work: (ms, undo) => this.#usart.work(ms, undo),
        commandStarted: (op) => this.#commandStarted(op),
        commandEnded: (op) => this.#commandEnded(op),
        failWrite: () => this.#writeFails,
        checksumLie: (address, length) => this.#faults.onChecksum(address, length),
      },
    });
    this.#usart = new UsartFrontEnd({
      baud: this.baud,
      timing: this.timing,
      faults: this.#faults,
      stats: this.stats,
      logger: this.#log,
      output: (bytes) => this.#output(bytes),
      target: {
        state: () => this.#state,
        startSession: () => this.#startSession(),
        endSession: (exit) => this.#endSession(exit),
        appData: (bytes) => this.#app.data(bytes),
        powerCut: (at) => this.#halt(at, "power"),
      },
    });
    this.#app = new AppRunner({
      factory: options.app,
      device: this.device,
      memory: this.memory,
      logger: this.#log,
      send: (bytes) => {
        if (this.#state === "application") this.#usart.send(bytes);
      },
      enterBootloader: () => {
        this.#setState("bootloader-sync");
        const at = Math.max(this.#usart.cpu, this.#usart.now());
        this.#usart.boot(at);
        this.#i2c.boot(at);
      },
    });
    this.#i2cCore = new BootloaderCore({
      protocol: "i2c",
      device: this.device,
      version: this.i2cVersion,
      commands: this.i2cCommands,
      memory: this.memory,
      stats: this.stats,
      hooks: {
        send: (bytes) => this.#i2c.send(bytes),
        work: (ms, undo) => this.#i2c.work(ms, undo),
        commandStarted: (op) => {
          this.#i2c.commandStarted(op);
          this.#commandStarted(op);
        },
        commandEnded: (op) => {
          this.#i2c.commandEnded();
          this.#commandEnded(op);
        },
        failWrite: () => this.#writeFails,
        checksumLie: (address, length) => this.#faults.onChecksum(address, length),
      },
    });
    this.#i2c = new I2cFrontEnd({
      timing: this.timing,
      version: this.i2cVersion,
      shortRead: options.i2cShortRead ?? "abandon",
      faults: this.#faults,
      stats: this.stats,
      logger: this.#log,
      target: {
        state: () => this.#state,
        startSession: () => {
          this.#setState("bootloader");
          return this.#i2cCore.session();
        },
        endSession: (exit, at) => this.#endSession(exit, at),
      },
    });
    this.powerOn();
  }

  get state(): SimState {
    return this.#state;
  }

  get rdp(): 0 | 1 {
    return this.memory.rdp;
  }

  /** Write-protected WRP sectors, ascending. */
  get wrp(): number[] {
    return [...this.memory.wrp].sort((a, b) => a - b);
  }

  get pins(): Readonly<{ boot0: boolean; nrst: boolean }> {
    return { ...this.#pins };
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Injected faults with their counters. */
  get faults(): readonly ActiveFault[] {
    return this.#faults.faults;
  }

  injectFault(fault: SimFault): ActiveFault {
    return this.#faults.add(fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Sets protection without the bootloader (test backdoor); persisted like a command would. */
  setProtection(state: { rdp?: 0 | 1; wrp?: readonly number[] }): void {
    const current = this.memory.optionState();
    this.memory.setOptionState({
      rdp: state.rdp ?? current.rdp,
      wrp: state.wrp ? new Set(state.wrp) : current.wrp,
    });
    this.#persistence?.flush();
  }

  /** Writes pending flash and option changes to the flash file (done after every command anyway). */
  flush(): void {
    this.#persistence?.flush();
  }

  // ---- power and pins ----

  powerOn(): void {
    this.#assertOpen();
    if (this.#powered) return;
    this.#powered = true;
    this.#log.debug({}, "power on");
    if (this.#pins.nrst) this.#boot(this.#usart.now());
  }

  /** Power goes now: flash work in progress keeps only what it had done, the module goes silent. */
  powerOff(): void {
    if (!this.#powered) return;
    this.#halt(this.#usart.now(), "power");
  }

  /** Drives BOOT0 and NRST. NRST false holds the module in reset; its rising edge boots per BOOT0. */
  setPins(pins: { boot0?: boolean; nrst?: boolean }): void {
    this.#assertOpen();
    if (pins.boot0 !== undefined) this.#pins.boot0 = pins.boot0;
    if (pins.nrst === undefined || pins.nrst === this.#pins.nrst) return;
    this.#pins.nrst = pins.nrst;
    if (!this.#powered) return;
    if (!pins.nrst) this.#halt(this.#usart.now(), "reset");
    else this.#boot(this.#usart.now());
  }

  /** Pulses NRST, with BOOT0 set for the requested target first (default: keep BOOT0). */
  reset(into?: "bootloader" | "application"): void {
    if (into) this.setPins({ boot0: into === "bootloader" });
    this.setPins({ nrst: false });
    this.setPins({ nrst: true });
  }

  /** Modem lines of the host's serial adapter, mapped to pins through the wiring. */
  setLines(lines: SerialLines): void {
    if (this.#wiring === "none") return;
    const level = (wire: LineWire | undefined): boolean | undefined => {
      const asserted = wire ? lines[wire.line] : undefined;
      return asserted === undefined ? undefined : asserted !== (wire?.invert ?? false);
    };
    const boot0 = level(this.#wiring.boot0);
    const reset = level(this.#wiring.nrst);
    this.setPins({ boot0, nrst: reset === undefined ? undefined : !reset });
  }

  // ---- connections ----

  /**
   * The host end of an in-process USART line to this module. Several may be open at once (like a
   * port opened twice): each receives every reply byte, and bytes written on any reach the module.
   */
  openUsart(): StreamTransport {
    this.#assertOpen();
    const end = new SimHostEnd(`sim:${this.device.aliases[0] ?? this.device.pid.toString(16)}`, this.baud, {
      receive: (bytes) => this.receive(bytes),
      setLines: (lines) => this.setLines(lines),
      detach: (e) => this.#hostEnds.delete(e),
    });
    this.#hostEnds.add(end);
    return end;
  }

  /** The module's I2C slave side, for a simulated bus: `createSimI2cBus().attach(sim)`. */
  i2cEndpoint(): SimI2cEndpoint {
    this.#assertOpen();
    return this.#i2c;
  }

  /** Sits on a stream (tty mode): its data are the host's bytes, replies are written to it. Returns a detach function. */
  attach(stream: SimStream): () => void {
    this.#assertOpen();
    this.#detachStream();
    const listener = (chunk: Uint8Array): void =>
      this.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length).slice());
    stream.on("data", listener);
    this.#stream = { stream, listener };
    return () => {
      if (this.#stream?.stream === stream) this.#detachStream();
    };
  }

  /** Host bytes arriving now (the in-process end and attach() call this). */
  receive(bytes: Uint8Array): void {
    if (this.#closed || this.#state === "off") return;
    this.#usart.receive(bytes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#app.stop();
    this.#usart.close();
    this.#i2c.close();
    this.#closed = true;
    this.#state = "off";
    this.#detachStream();
    await Promise.all([...this.#hostEnds].map((e) => e.close()));
    this.#persistence?.close();
    this.removeAllListeners();
  }

  /** Stats plus identity, for `--stats-file` and benchmarks. */
  snapshot(): SimStats & { device: string; pid: number; baud: number; timing: boolean; state: SimState } {
    return {
      device: this.device.name,
      pid: this.device.pid,
      baud: this.baud,
      timing: this.timing,
      state: this.#state,
      ...this.stats,
      commands: { ...this.stats.commands },
    };
  }

  // ---- internals ----

  #setState(state: SimState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#log.debug({ state }, "state");
    this.emit("state", state);
  }

  #boot(at: number): void {
    this.stats.resets++;
    const ready = at + (this.timing ? (this.#options.bootMs ?? 0) : 0);
    this.#setState(this.#pins.boot0 ? "bootloader-sync" : "application");
    this.#usart.boot(ready);
    this.#i2c.boot(ready);
    if (this.#state === "application") this.#app.start("reset");
  }

  /** Power cut or reset held at `t`. */
  #halt(t: number, why: "power" | "reset"): void {
    this.#app.stop();
    this.#usart.halt(t);
    this.#i2c.halt(t);
    this.#persistence?.flush();
    if (why === "power") {
      this.#powered = false;
      this.memory.clearRam(); // SRAM survives a reset, not a power cut
    }
    this.#log.debug({ why }, why === "power" ? "power cut" : "held in reset");
    this.#setState("off");
  }

  #startSession(): CoreSession {
    this.#setState("bootloader");
    return this.#core.session();
  }

  /** The session ended at virtual time `at` (the time of the front-end that ran it). */
  #endSession(exit: CoreExit, at = this.#usart.cpu): void {
    if (exit.kind === "go" && isResetStub(this.memory, exit.address)) {
      // Hosts reset a part through the bootloader by running a stub from RAM that writes
      // SYSRESETREQ to the AIRCR (docs/protocol.md §2.3.5, stm32flash -R). We cannot run code,
      // but we recognise that one: the module resets and boots per BOOT0.
      this.#log.debug({ address: addr(exit.address) }, "Go into a RAM reset stub: system reset");
      this.#boot(at);
      return;
    }
    if (exit.kind === "go") {
      this.#setState("application");
      this.#app.start("go", exit.address);
      return;
    }
    this.#log.debug({}, "bootloader command resets the module");
    this.#boot(at);
  }

  #commandStarted(op: number): void {
    const key = opcodeKey(op);
    this.stats.commands[key] = (this.stats.commands[key] ?? 0) + 1;
    this.#writeFails =
      (op === Op.writeMemory || NO_STRETCH_OF.get(op) === Op.writeMemory) && this.#faults.onWrite();
  }

  #commandEnded(op: number): void {
    this.#persistence?.flush();
    this.emit("command", { opcode: op });
  }

  #output(bytes: Uint8Array): void {
    for (const end of this.#hostEnds) end.deliver(bytes);
    this.#stream?.stream.write(bytes);
  }

  #detachStream(): void {
    if (!this.#stream) return;
    this.#stream.stream.off("data", this.#stream.listener);
    this.#stream = undefined;
  }

  #loadInitialFlash(initial: NonNullable<SimOptions["initialFlash"]>): void {
    const pieces =
      initial instanceof Uint8Array ? [{ address: this.device.flash.start, data: initial }] : initial;
    for (const { address, data } of pieces) {
      if (address < this.device.flash.start || address + data.length > this.device.flash.end) {
        throw new SimError(
          "bad-option",
          `initialFlash: ${addr(address)}+${data.length} is outside the flash of ${this.device.name}`,
          {
            address,
            length: data.length,
          },
        );
      }
      this.memory.load(address, data);
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SimError("closed", `simulated ${this.device.name} is closed`, { device: this.device.name });
  }
}

function validate(sim: SimulatedModule): void {
  if (!Number.isFinite(sim.baud) || sim.baud <= 0) {
    throw new SimError("bad-option", `baud must be a positive number, got ${sim.baud}`, { baud: sim.baud });
  }
  if (!Number.isInteger(sim.i2cVersion) || sim.i2cVersion < 0 || sim.i2cVersion > 0xff) {
    throw new SimError("bad-option", `I2C bootloader version must be a byte, got ${sim.i2cVersion}`, {
      i2cVersion: sim.i2cVersion,
    });
  }
  if (!Number.isInteger(sim.version) || sim.version < 0 || sim.version > 0xff) {
    throw new SimError("bad-option", `bootloader version must be a byte, got ${sim.version}`, {
      version: sim.version,
    });
  }
  const bad = sim.commands.find((c) => !Number.isInteger(c) || c < 0 || c > 0xff);
  if (bad !== undefined || sim.commands.length > 255) {
    throw new SimError("bad-option", `commands must be at most 255 opcodes 0x00–0xFF`, {
      commands: sim.commands,
    });
  }
}
