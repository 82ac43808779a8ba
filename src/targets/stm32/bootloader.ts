/**
 * A session with one module's ROM bootloader: activation, identification (one Get, one Get ID, a
 * small Read Memory that tells whether readout protection is on) and one method per command. The
 * command set comes from the Get reply; a command the device does not list fails with
 * "command-unsupported" before anything is sent.
 *
 * The same session runs over I2C (AN4221): no activation, identification by i2c-session.ts, and the
 * exchanges that differ on I2C (i2c-commands.ts) chosen by the link's kind. On I2C every flash
 * command is sent in its No-Stretch form when the Get list has it; `i2c.clockStretching` says when
 * it does not (a warning is logged at connect).
 */
import type { I2cTransport, StreamTransport } from "../transport/transport.js";
import { silentLogger, type Logger } from "../../util/logger.js";
import { eraseUnits, resolveBankMode, type DeviceInfo } from "./device.js";
import { findDevice } from "./devices.js";
import { BootloaderError } from "./errors.js";
import { UsartLink, type Link, type LinkIo, type UsartLinkOptions } from "./link.js";
import { Opcode, commandName, versionString } from "./commands/codes.js";
import { get, getId, getVersion, type VersionReply } from "./commands/identify.js";
import { MAX_TRANSFER, go, readMemory, writeMemory } from "./commands/memory.js";
import { erase, eraseBatches, type EraseOpcode, type EraseRequest } from "./commands/erase.js";
import { readoutProtect, readoutUnprotect, writeProtect, writeUnprotect } from "./commands/protection.js";
import { getChecksum } from "./commands/checksum.js";
import { I2cLink, type I2cLinkOptions } from "./link-i2c.js";
import { identifyI2c, type I2cCompletion } from "./i2c-session.js";
import {
  i2cErase,
  i2cGetVersion,
  i2cOpcode,
  i2cOptionCommand,
  i2cWriteMemory,
  i2cWriteProtect,
} from "./i2c-commands.js";

export type RdpState = "level0" | "level1" | "unknown";

export interface ConnectOptions {
  logger?: Logger;
  /** Use this part instead of looking the PID up (a part missing from the table, or a clone). */
  device?: DeviceInfo;
  /** Send 0x7F first (default true). False when the link is known to be synchronised already. */
  activate?: boolean;
  /**
   * Resynchronisation bursts allowed at connect when 0x7F gets no answer or Get does not answer
   * cleanly (default 2; 0 disables the recovery). See `connectUsart`.
   */
  recoveryRounds?: number;
  /** Probe readout protection with a Read Memory at the flash start (default true). */
  probeRdp?: boolean;
  /** Link tuning: timeouts, activation attempts, resync rounds. */
  link?: UsartLinkOptions;
  /** I2C link tuning (timeouts, BUSY poll interval, resync rounds), for I2C transports. */
  i2cLink?: I2cLinkOptions;
}

/** The highest page number the legacy Erase (0x43) can carry: its page numbers are one byte. */
const LEGACY_MAX_PAGE = 0xff;

/** Delay before polling after a Write Memory into the option bytes, which resets the device (§1.4). */
const OPTION_WRITE_RESET_MS = 100;

export class Bootloader {
  readonly link: Link;
  /** Protocol version byte from Get, e.g. 0x31. */
  readonly version: number;
  /** Opcodes from Get, in the device's order. */
  readonly commands: readonly number[];
  /** Product ID from Get ID. */
  readonly pid: number;
  readonly device: DeviceInfo;
  /** The first bytes of flash read by the RDP probe (empty when not probed or protected). */
  readonly flashHead: Uint8Array;
  /** On I2C: whether flash commands complete by BUSY polling (No-Stretch) or clock stretching. Undefined on USART. */
  readonly i2c: I2cCompletion | undefined;
  #rdp: RdpState;
  readonly #supported: ReadonlySet<number>;
  readonly #log: Logger;

  private constructor(
    link: Link,
    identity: {
      version: number;
      commands: number[];
      pid: number;
      device: DeviceInfo;
      rdp: RdpState;
      flashHead: Uint8Array;
      i2c?: I2cCompletion;
    },
    log: Logger,
  ) {
    this.link = link;
    this.version = identity.version;
    this.commands = identity.commands;
    this.pid = identity.pid;
    this.device = identity.device;
    this.flashHead = identity.flashHead;
    this.i2c = identity.i2c;
    this.#rdp = identity.rdp;
    this.#supported = new Set(identity.commands);
    this.#log = log;
  }

  /** Activates the bootloader on a USART transport (or contacts it on an I2C one) and identifies the part. */
  static connect(
    transport: StreamTransport | I2cTransport,
    options: ConnectOptions = {},
  ): Promise<Bootloader> {
    if (transport.kind === "i2c")
      return Bootloader.open(new I2cLink(transport, { logger: options.logger, ...options.i2cLink }), options);
    const link = new UsartLink(transport, { logger: options.logger, ...options.link });
    return Bootloader.open(link, options);
  }

  /** Identifies the part behind an existing link (USART or, later, I2C). */
  static async open(link: Link, options: ConnectOptions = {}): Promise<Bootloader> {
    const log = (options.logger ?? silentLogger).child({ layer: "bootloader", port: link.port });
    const i2c = link instanceof I2cLink ? await identifyI2c(link, options.logger) : undefined;
    const { version, commands } =
      i2c ?? (await connectUsart(link, options.activate !== false, options.recoveryRounds ?? 2, log));
    const { pid } = i2c ?? (await link.exclusive(getId));
    let device = options.device ?? findDevice(pid);
    if (!device) {
      throw new BootloaderError(
        "unknown-device",
        `${link.port}: the bootloader reports product ID 0x${pid.toString(16).padStart(3, "0")}, which is not in the device table: ` +
          "name a compatible part with --device, or add the part to src/targets/stm32/devices",
        { port: link.port, pid },
      );
    }
    link.identify(device);
    let rdp: RdpState = "unknown";
    let flashHead: Uint8Array = new Uint8Array(0);
    if (options.probeRdp !== false && commands.includes(Opcode.readMemory)) {
      ({ rdp, flashHead } = await probeRdp(link, device));
    }
    if (rdp === "level0") device = await readBankMode(link, device, log);
    log.info(
      {
        productId: `0x${pid.toString(16)}`,
        device: device.name,
        version: versionString(version),
        rdp,
        commands: commands.map((c) => `0x${c.toString(16)}`),
        ...(i2c ? { i2c: i2c.completion } : {}),
      },
      "bootloader identified",
    );
    return new Bootloader(
      link,
      { version, commands, pid, device, rdp, flashHead, ...(i2c ? { i2c: i2c.completion } : {}) },
      log,
    );
  }

  get port(): string {
    return this.link.port;
  }

  /** Readout protection as last probed or set by this session. */
  get rdp(): RdpState {
    return this.#rdp;
  }

  supports(code: number): boolean {
    return this.#supported.has(code);
  }

  /** The erase opcode the device offers (0x44 preferred), or undefined when it lists neither. */
  get eraseOpcode(): EraseOpcode | undefined {
    if (this.supports(Opcode.extendedErase)) return Opcode.extendedErase;
    if (this.supports(Opcode.erase)) return Opcode.erase;
    return undefined;
  }

  getVersion(): Promise<VersionReply> {
    if (this.i2c)
      return this.#run(Opcode.getVersion, false, async (io) => ({
        version: await i2cGetVersion(io),
        option1: 0,
        option2: 0,
      }));
    return this.#run(Opcode.getVersion, false, getVersion);
  }

  /** Reads any number of bytes, in 256-byte commands. */
  async readMemory(address: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; done += MAX_TRANSFER) {
      const n = Math.min(MAX_TRANSFER, length - done);
      out.set(await this.#run(Opcode.readMemory, true, (io) => readMemory(io, address + done, n)), done);
    }
    return out;
  }

  /**
   * One Write Memory command (1..256 bytes). A write into the option bytes resets the device (§1.4);
   * the session then re-activates it.
   */
  writeBlock(address: number, data: Uint8Array): Promise<void> {
    const ob = this.device.optionBytes;
    const resets = ob !== undefined && address < ob.end && address + data.length > ob.start;
    const opcode = this.#opcode(Opcode.writeMemory);
    return this.#run(opcode, true, async (io) => {
      await (this.i2c ? i2cWriteMemory(io, opcode, address, data) : writeMemory(io, address, data));
      if (resets) await io.reactivateAfterReset(OPTION_WRITE_RESET_MS, io.timeout(0, 1_000) + 2_000);
    });
  }

  /** Writes any number of bytes in 256-byte commands (no erase, no padding). */
  async writeMemory(address: number, data: Uint8Array): Promise<void> {
    for (let done = 0; done < data.length; done += MAX_TRANSFER) {
      await this.writeBlock(address + done, data.subarray(done, done + MAX_TRANSFER));
    }
  }

  /** Starts the code at `address`; the bootloader is gone afterwards. */
  go(address: number): Promise<void> {
    return this.#run(Opcode.go, true, (io) => go(io, address));
  }

  /**
   * Erases units, the whole flash or one bank, with 0x44 or 0x43 as the device offers. Unit lists
   * are split at the device's and the command's limits; `onBatch` reports each finished command.
   */
  async erase(request: EraseRequest, onBatch?: (erasedIndexes: readonly number[]) => void): Promise<void> {
    const opcode = this.eraseOpcode;
    if (opcode === undefined) throw this.#unsupported(Opcode.extendedErase);
    if (request.kind !== "units") {
      if (!this.device.massErase) {
        throw new BootloaderError(
          "command-unsupported",
          `${this.port}: ${this.device.name} has no mass erase (Extended Erase 0xFFFF is refused on L0/L1): erase its pages instead`,
          { port: this.port, device: this.device.name },
        );
      }
      if (request.kind === "bank" && (!this.device.dualBank || opcode !== Opcode.extendedErase)) {
        throw new BootloaderError(
          "command-unsupported",
          `${this.port}: ${this.device.name} cannot erase flash bank ${request.bank} on its own`,
          {
            port: this.port,
            bank: request.bank,
          },
        );
      }
      await this.#run(this.#opcode(opcode), true, (io) => this.#erase(io, opcode, request));
      return;
    }
    if (opcode === Opcode.erase && request.indexes.some((i) => i > LEGACY_MAX_PAGE)) {
      await this.#legacyEraseHighPages(request.indexes);
      onBatch?.(request.indexes);
      return;
    }
    for (const batch of eraseBatches(this.device, opcode, request.indexes)) {
      await this.#run(this.#opcode(opcode), true, (io) =>
        this.#erase(io, opcode, { kind: "units", indexes: batch }),
      );
      onBatch?.(batch);
    }
  }

  /** Write-protects WRP sectors; the device resets and the session re-activates it. */
  writeProtect(sectors: readonly number[]): Promise<void> {
    const opcode = this.#opcode(Opcode.writeProtect);
    return this.#run(opcode, true, (io) =>
      this.i2c ? i2cWriteProtect(io, opcode, sectors) : writeProtect(io, sectors),
    );
  }

  writeUnprotect(): Promise<void> {
    return this.#run(
      this.#opcode(Opcode.writeUnprotect),
      true,
      this.i2c ? (io) => i2cOptionCommand(io, this.#opcode(Opcode.writeUnprotect)) : writeUnprotect,
    );
  }

  async readoutProtect(): Promise<void> {
    await this.#run(
      this.#opcode(Opcode.readoutProtect),
      true,
      this.i2c ? (io) => i2cOptionCommand(io, this.#opcode(Opcode.readoutProtect)) : readoutProtect,
    );
    this.#rdp = "level1";
  }

  /** WARNING: mass-erases the whole flash (that is how RDP level 1 is lifted). */
  async readoutUnprotect(): Promise<void> {
    await this.#run(
      this.#opcode(Opcode.readoutUnprotect),
      false,
      this.i2c ? (io) => i2cOptionCommand(io, this.#opcode(Opcode.readoutUnprotect)) : readoutUnprotect,
    );
    this.#rdp = "level0";
  }

  /** STM32 CRC of `length` bytes at `address` (both multiples of 4), computed by the device (0xA1). */
  getChecksum(address: number, length: number): Promise<number> {
    return this.#run(Opcode.getChecksum, true, (io) => getChecksum(io, address, length));
  }

  /** Recovers the frame boundary after a lost or garbled frame (see UsartLink). */
  resync(reason: string): Promise<void> {
    return this.link.resync(reason);
  }

  /**
   * Pages above 255 with only the legacy Erase (0x43, AN3155 §3.7: one-byte page numbers), as on
   * an F1 XL-density ROM that lists 0x43: they cannot be named. When the request covers every page
   * of the flash, the global erase (`FF 00`) does the same job; otherwise the request is refused
   * before anything is erased, rather than erasing the wrong pages or more than asked.
   */
  async #legacyEraseHighPages(indexes: readonly number[]): Promise<void> {
    const all = eraseUnits(this.device).length;
    const wanted = new Set(indexes);
    if (wanted.size === all && [...wanted].every((i) => i >= 0 && i < all)) {
      this.#log.info(
        { pages: all },
        "the legacy Erase (0x43) numbers pages 0..255: erasing every page with its global erase",
      );
      await this.#run(this.#opcode(Opcode.erase), true, (io) =>
        this.#erase(io, Opcode.erase, { kind: "mass" }),
      );
      return;
    }
    const high = indexes.filter((i) => i > LEGACY_MAX_PAGE);
    throw new BootloaderError(
      "command-unsupported",
      `${this.port}: ${this.device.name} offers only the legacy Erase (0x43), whose one-byte page numbers stop at 255; ` +
        `page(s) ${high.slice(0, 4).join(", ")}${high.length > 4 ? ", …" : ""} cannot be erased on their own. ` +
        "Flash an image that covers the whole flash (it is then mass-erased), or erase the whole flash first",
      { port: this.port, device: this.device.name, pages: high.length },
    );
  }

  /** The opcode sent for a command: on I2C its No-Stretch variant when the device lists it. */
  #opcode(plain: number): number {
    return this.i2c ? (i2cOpcode(plain, this.#supported) ?? plain) : plain;
  }

  /** One erase command, framed for the link's interface (I2C sends the page count as a frame of its own). */
  #erase(io: LinkIo, opcode: EraseOpcode, request: EraseRequest): Promise<void> {
    return this.i2c ? i2cErase(io, this.#opcode(opcode), request) : erase(io, opcode, request);
  }

  #run<T>(code: number, touchesMemory: boolean, fn: (io: LinkIo) => Promise<T>): Promise<T> {
    if (!this.#supported.has(code)) return Promise.reject(this.#unsupported(code));
    if (touchesMemory && this.#rdp === "level1") {
      return Promise.reject(
        new BootloaderError(
          "readout-protected",
          `${this.port}: ${commandName(code)} refused: the module is readout-protected (RDP level 1); ` +
            "lifting it (subflash unprotect --readout) mass-erases the flash",
          { port: this.port, command: commandName(code) },
        ),
      );
    }
    return this.link.exclusive(fn);
  }

  #unsupported(code: number): BootloaderError {
    const offered = this.commands.map(commandName).join(", ");
    this.#log.debug({ code }, "command not offered");
    return new BootloaderError(
      "command-unsupported",
      `${this.port}: the bootloader (protocol v${versionString(this.version)}) does not offer ${commandName(code)}; it lists ${offered}`,
      { port: this.port, command: commandName(code), version: this.version },
    );
  }
}

/**
 * USART first contact that recovers a bootloader left mid-frame (a killed session, line noise):
 * 1. activation (0x7F, AN3155 §2.1); when it gets no answer, a resynchronisation burst completes
 *    whatever frame the ROM is still waiting for, and activation is tried again (`rounds` bursts);
 * 2. the link is proven by a Get that parses cleanly (ACK, count, version, codes, ACK): a garbled or
 *    missing reply costs one more burst, within the same budget. Nothing that touches flash is
 *    sent before this succeeds.
 * A module that is not in its bootloader at all stays silent through all of it; the error is then the
 * first one, with its advice on baud rate, parity and wiring.
 */
async function connectUsart(
  link: Link,
  activate: boolean,
  rounds: number,
  log: Logger,
): Promise<Awaited<ReturnType<typeof get>>> {
  const usart = link instanceof UsartLink ? link : undefined;
  let left = usart ? rounds : 0;
  if (activate && usart) {
    try {
      await usart.activate();
    } catch (error) {
      if (!(error instanceof BootloaderError) || error.code !== "no-answer" || left === 0) throw error;
      log.warn(
        { rounds: left },
        "no answer to 0x7F: the bootloader may be waiting in the middle of a frame; resynchronising",
      );
      try {
        await usart.recover("connect: no answer to 0x7F", left);
      } catch (recovery) {
        throw new BootloaderError(
          "no-answer",
          `${error.message} (resynchronisation bursts at connect got no answer either)`,
          error.context,
          { cause: recovery },
        );
      }
      left = 0;
    }
  }
  for (;;) {
    try {
      return await link.exclusive(get);
    } catch (error) {
      const garbled =
        error instanceof BootloaderError &&
        ["timeout", "unexpected-byte", "bad-reply", "nack"].includes(error.code);
      if (!garbled || !usart || left === 0) throw error;
      log.warn({ reason: error.code }, "Get did not answer cleanly at connect; resynchronising");
      await usart.recover(`connect: Get ${error.code}`, 1);
      left--;
    }
  }
}

/**
 * Geometry that an option bit decides (L4+, G4 DBANK; device.ts BankModeGeometry): read the option
 * word through Read Memory and resolve the row. A refused read keeps the factory default, logged.
 */
async function readBankMode(link: Link, device: DeviceInfo, log: Logger): Promise<DeviceInfo> {
  const probe = device.bankMode?.probe;
  if (!probe) return device;
  try {
    const bytes = await link.exclusive((io) => readMemory(io, probe.address, 4));
    const word = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
    const resolved = resolveBankMode(device, word);
    log.info(
      { option: device.bankMode!.bit, set: (word & probe.mask) !== 0, dualBank: resolved.dualBank },
      "flash geometry read from the option bytes",
    );
    if (resolved !== device) link.identify(resolved);
    return resolved;
  } catch (error) {
    if (!(error instanceof BootloaderError)) throw error;
    log.warn({ err: error }, "could not read the option bytes; assuming the factory default geometry");
    return device;
  }
}

/** Bytes read at the flash start by the RDP probe: the vector table's stack pointer and reset vector. */
const PROBE_LENGTH = 8;

/**
 * RDP level 1 makes the device NACK Read Memory right after the command frame (§1.3); Get Version's
 * option bytes are not trustworthy. A NACK is confirmed once, so that a command frame garbled on the
 * line is not taken for protection.
 */
async function probeRdp(link: Link, device: DeviceInfo): Promise<{ rdp: RdpState; flashHead: Uint8Array }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const flashHead = await link.exclusive((io) => readMemory(io, device.flash.start, PROBE_LENGTH));
      return { rdp: "level0", flashHead };
    } catch (error) {
      if (!(error instanceof BootloaderError) || error.code !== "readout-protected") throw error;
      if (attempt === 2) return { rdp: "level1", flashHead: new Uint8Array(0) };
    }
  }
}
