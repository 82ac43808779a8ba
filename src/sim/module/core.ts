/**
 * The ROM bootloader's command engine (AN3155 commands, docs/protocol.md §2.2–§2.6), independent
 * of how bytes travel. It is a generator: it yields how many bytes it needs next and receives them,
 * sends replies through `hooks.send`, and reports modelled flash time through `hooks.work`. The USART
 * front-end (usart.ts) feeds it from the byte stream after the 0x7F activation; the I2C front-end
 * (i2c-front-end.ts, AN4221) feeds it write-transaction payloads. Each `hooks.send` call is one reply
 * unit (an ACK, or one data reply), which the I2C front-end serves as one read transaction.
 *
 * With `protocol: "i2c"` (AN4221, docs/protocol.md §3.1–§3.2) the handlers branch where I2C
 * differs: Get Version returns one byte; Extended Erase takes its count as a frame of its own
 * (`Nh Nl XOR`, ACKed) and then the page list with an XOR restarting at 0; Write Protect takes
 * `N ~N` (ACKed), then the sectors and their XOR, and ACKs after programming the option bytes; the
 * No-Stretch opcodes (0x32, 0x45, 0x64, 0x74, 0x83, 0x93) run their plain command's handler (how the
 * last status is read — BUSY polls or clock stretching — is the front-end's business).
 *
 * Decisions where the reference leaves room (documented in docs and tests):
 * - Write Memory into flash or option bytes needs a 4-byte aligned address (NACK at the address
 *   phase) and a length that is a multiple of 4 (NACK at the end); RAM takes any alignment.
 * - Read Memory and Write Memory NACK when the end runs past the area (seen on G0, §2.5).
 * - Erase of a write-protected unit, and mass/bank erase with any protected sector inside, NACK.
 * - Page lists longer than the family's documented limit (L0 511, L1 512) NACK; other families
 *   take any list the command can carry.
 * - Write Protect replaces the WRP set (AN3155 as recalled); out-of-range sectors are ignored.
 * - Readout Unprotect mass-erases, clears RDP and WRP, and resets; its second ACK precedes the work
 *   ([OB]), so the module is deaf while it erases.
 * - Get Checksum is refused under RDP like the other memory commands.
 */
import { programMs, unitEraseMs, type DeviceInfo } from "../../targets/index.js";
import { stm32Crc } from "../../util/digest.js";
import type { Undo } from "./flash.js";
import type { SimMemory } from "./memory.js";
import { NO_STRETCH_OF } from "./i2c-opcodes.js";
import { ACK, NACK, Op, RDP_PROTECTED } from "./opcodes.js";
import type { OptionState } from "./system-info.js";
import type { SimStats } from "./types.js";

/** What ends a bootloader session: a reset (the module re-enters WAIT_SYNC) or a jump to code. */
export type CoreExit = { kind: "reset" } | { kind: "go"; address: number };

/** Yields the number of bytes wanted, receives exactly that many, returns how the session ended. */
export type CoreSession = Generator<number, CoreExit, Uint8Array>;
type Step<T> = Generator<number, T, Uint8Array>;

export interface CoreHooks {
  /** Puts reply bytes on the line, after everything sent before and after modelled work. */
  send(bytes: ArrayLike<number>): void;
  /** The device is busy for `ms` (flash work); `undo` takes back the part a power cut interrupts. */
  work(ms: number, undo?: Undo): void;
  /** A valid, listed opcode arrived (before the RDP check). */
  commandStarted(op: number): void;
  /** The command finished (ACKed to the end or NACKed); flash may have changed. */
  commandEnded(op: number): void;
  /** Fault injection: should this Write Memory fail at its final phase? */
  failWrite(): boolean;
  /** Fault injection: the CRC a lying device answers for this Get Checksum, if any. */
  checksumLie?(address: number, length: number): number | undefined;
}

export interface CoreConfig {
  device: DeviceInfo;
  /** Protocol version byte for Get / Get Version. */
  version: number;
  /** Get list, and the set of opcodes accepted. */
  commands: readonly number[];
  /** Which framing the commands follow (default "usart", AN3155; "i2c" is AN4221). */
  protocol?: "usart" | "i2c";
  memory: SimMemory;
  stats: SimStats;
  hooks: CoreHooks;
}

/** Hardware CRC unit: about 4 cycles a word at 16 MHz. */
const CRC_MS_PER_WORD = 0.00025;

export class BootloaderCore {
  readonly #cfg: CoreConfig;
  readonly #accepted: ReadonlySet<number>;
  readonly #i2c: boolean;

  constructor(cfg: CoreConfig) {
    this.#cfg = cfg;
    this.#accepted = new Set(cfg.commands);
    this.#i2c = cfg.protocol === "i2c";
  }

  /** One synchronised session: commands until one resets the module or jumps away. */
  *session(): CoreSession {
    for (;;) {
      const frame = yield 2;
      const op = frame[0]!;
      if ((op ^ frame[1]!) !== 0xff || !this.#accepted.has(op)) {
        this.#nack();
        continue;
      }
      this.#cfg.hooks.commandStarted(op);
      let exit: CoreExit | undefined;
      const handler = this.#i2c ? (NO_STRETCH_OF.get(op) ?? op) : op;
      if (this.#cfg.memory.rdp === 1 && RDP_PROTECTED.has(handler)) this.#nack();
      else exit = yield* this.#dispatch(handler);
      this.#cfg.hooks.commandEnded(op);
      if (exit) return exit;
    }
  }

  *#dispatch(op: number): Step<CoreExit | undefined> {
    switch (op) {
      case Op.get:
        return this.#get();
      case Op.getVersion:
        // I2C: the version byte alone (AN4221); USART adds the two legacy option bytes.
        return this.#reply(this.#i2c ? [this.#cfg.version] : [this.#cfg.version, 0x00, 0x00]);
      case Op.getId:
        return this.#reply([0x01, this.#cfg.device.pid >> 8, this.#cfg.device.pid & 0xff]);
      case Op.readMemory:
        return yield* this.#readMemory();
      case Op.go:
        return yield* this.#go();
      case Op.writeMemory:
        return yield* this.#writeMemory();
      case Op.erase:
        return yield* this.#legacyErase();
      case Op.extendedErase:
        return yield* this.#i2c ? this.#extendedEraseI2c() : this.#extendedErase();
      case Op.writeProtect:
        return yield* this.#i2c ? this.#writeProtectI2c() : this.#writeProtect();
      case Op.writeUnprotect:
        return this.#optionCommand({ ...this.#cfg.memory.optionState(), wrp: new Set() });
      case Op.readoutProtect:
        return this.#optionCommand({ ...this.#cfg.memory.optionState(), rdp: 1 });
      case Op.readoutUnprotect:
        return this.#readoutUnprotect();
      case Op.getChecksum:
        return yield* this.#getChecksum();
      default:
        // Listed through the `commands` option but not modelled (e.g. 0x50/0x51 special commands).
        return this.#nack();
    }
  }

  #get(): undefined {
    const { commands, version } = this.#cfg;
    return this.#reply([commands.length, version, ...commands]);
  }

  /** ACK, one data reply, ACK: three units (three read transactions on I2C). */
  #reply(data: number[]): undefined {
    this.#ack();
    this.#send(...data);
    return this.#ack();
  }

  *#readMemory(): Step<undefined> {
    const { memory } = this.#cfg;
    this.#ack();
    const address = yield* this.#address();
    const area = address === undefined ? undefined : memory.areaAt(address);
    if (address === undefined || !area?.readable) return this.#nack();
    this.#ack();
    const [n, check] = yield 2;
    if ((n! ^ check!) !== 0xff || address + n! + 1 > memory.readableEnd(area)) return this.#nack();
    this.#ack();
    this.#cfg.hooks.send(memory.read(address, n! + 1));
    return undefined;
  }

  *#go(): Step<CoreExit | undefined> {
    this.#ack();
    const address = yield* this.#address();
    if (address === undefined || !this.#cfg.memory.areaAt(address)?.executable) return this.#nack();
    this.#ack();
    return { kind: "go", address };
  }

  *#writeMemory(): Step<CoreExit | undefined> {
    const { memory, hooks, device, stats } = this.#cfg;
    this.#ack();
    const address = yield* this.#address();
    const area = address === undefined ? undefined : memory.areaAt(address);
    if (address === undefined || !area?.writable) return this.#nack();
    const wordAligned = area.kind !== "ram";
    if (wordAligned && address % 4 !== 0) return this.#nack();
    this.#ack();
    const [n] = yield 1;
    const rest = yield n! + 2;
    const data = rest.subarray(0, n! + 1);
    if ((xor(data) ^ n!) !== rest[n! + 1]) return this.#nack();
    if ((wordAligned && data.length % 4 !== 0) || address + data.length > area.end) return this.#nack();
    if (hooks.failWrite()) return this.#nack();
    if (area.kind === "ram") {
      area.bytes.set(data, address - area.start);
      return this.#ack();
    }
    if (area.kind === "option-bytes") {
      const before = memory.optionState();
      const image = area.bytes.slice();
      area.bytes.set(data, address - area.start);
      memory.applyOptionBytesImage();
      hooks.work(
        optionBytesMs(device),
        optionUndo(memory, before, () => area.bytes.set(image)),
      );
      this.#ack();
      return { kind: "reset" };
    }
    if (memory.flash.isRangeProtected(address, data.length)) return this.#ack(); // ACKed, nothing written (§2.3.6)
    const result = memory.flash.program(address, data);
    stats.bytesProgrammed += result.bytesProgrammed;
    hooks.work(programMs(device, result.bytesProgrammed), result.undo);
    return result.ok ? this.#ack() : this.#nack();
  }

  /** Erase 0x43 (protocol v2.x, §2.3.7): `FF 00` global, or N, one-byte page numbers, XOR. */
  *#legacyErase(): Step<undefined> {
    this.#ack();
    const [n] = yield 1;
    if (n === 0xff) {
      const [check] = yield 1;
      return check === 0x00 ? this.#massErase() : this.#nack();
    }
    const rest = yield n! + 2;
    const pages = Array.from(rest.subarray(0, n! + 1));
    if ((xor(rest.subarray(0, n! + 1)) ^ n!) !== rest[n! + 1]) return this.#nack();
    return this.#erasePages(pages);
  }

  /** Extended Erase 0x44 (§2.3.8): 16-bit count N; 0xFFFx special codes; else N+1 16-bit pages, XOR. */
  *#extendedErase(): Step<undefined> {
    const { device } = this.#cfg;
    this.#ack();
    const count = yield 2;
    const n = (count[0]! << 8) | count[1]!;
    if ((n & 0xfff0) === 0xfff0) {
      const [check] = yield 1;
      if (check !== (count[0]! ^ count[1]!)) return this.#nack();
      if (n === 0xffff && device.massErase) return this.#massErase();
      if ((n === 0xfffe || n === 0xfffd) && device.dualBank) return this.#bankErase(n === 0xfffe ? 1 : 2);
      return this.#nack(); // reserved FFF0–FFFC, no mass erase (L0/L1), or single bank
    }
    const rest = yield 2 * (n + 1) + 1;
    const body = rest.subarray(0, 2 * (n + 1));
    if ((xor(body) ^ count[0]! ^ count[1]!) !== rest[body.length]) return this.#nack();
    if (tooManyPages(device, n + 1)) return this.#nack();
    const pages: number[] = [];
    for (let i = 0; i < body.length; i += 2) pages.push((body[i]! << 8) | body[i + 1]!);
    return this.#erasePages(pages);
  }

  /**
   * Extended Erase on I2C (AN4221, §3.1): `Nh Nl XOR` is a frame of its own; special codes end there,
   * a page count is ACKed and followed by `pages…, XOR(pages)` (the XOR restarts at 0).
   */
  *#extendedEraseI2c(): Step<undefined> {
    const { device } = this.#cfg;
    this.#ack();
    const count = yield 3;
    if ((count[0]! ^ count[1]!) !== count[2]) return this.#nack();
    const n = (count[0]! << 8) | count[1]!;
    if ((n & 0xfff0) === 0xfff0) {
      if (n === 0xffff && device.massErase) return this.#massErase();
      if ((n === 0xfffe || n === 0xfffd) && device.dualBank) return this.#bankErase(n === 0xfffe ? 1 : 2);
      return this.#nack();
    }
    if (tooManyPages(device, n + 1)) return this.#nack();
    this.#ack();
    const rest = yield 2 * (n + 1) + 1;
    const body = rest.subarray(0, 2 * (n + 1));
    if (xor(body) !== rest[body.length]) return this.#nack();
    const pages: number[] = [];
    for (let i = 0; i < body.length; i += 2) pages.push((body[i]! << 8) | body[i + 1]!);
    return this.#erasePages(pages);
  }

  #erasePages(pages: number[]): undefined {
    const { memory, device, hooks, stats } = this.#cfg;
    const { flash } = memory;
    if (pages.some((p) => p >= flash.units.length || flash.isUnitProtected(p))) return this.#nack();
    const undo = flash.eraseUnits(pages);
    stats.unitsErased += pages.length;
    hooks.work(
      pages.reduce((ms, p) => ms + unitEraseMs(device, flash.units[p]!.size), 0),
      undo,
    );
    return this.#ack();
  }

  #massErase(): undefined {
    const { memory, device, hooks, stats } = this.#cfg;
    if (memory.flash.wrp.size > 0) return this.#nack();
    const undo = memory.flash.eraseRange(0, memory.flash.data.length);
    stats.massErases++;
    hooks.work(massEraseMs(device), undo);
    return this.#ack();
  }

  #bankErase(bank: 1 | 2): undefined {
    const { memory, device, hooks, stats } = this.#cfg;
    const half = memory.flash.data.length / 2;
    const from = bank === 1 ? 0 : half;
    if (memory.flash.isRangeProtected(memory.flash.start + from, half)) return this.#nack();
    const undo = memory.flash.eraseRange(from, from + half);
    stats.massErases++;
    hooks.work(device.timing.massEraseMs.typ, undo);
    return this.#ack();
  }

  /** Write Protect 0x63 (§2.3.9): N, sector numbers, XOR; replaces the WRP set, then resets. */
  *#writeProtect(): Step<CoreExit | undefined> {
    this.#ack();
    const [n] = yield 1;
    const rest = yield n! + 2;
    const sectors = rest.subarray(0, n! + 1);
    if ((xor(sectors) ^ n!) !== rest[n! + 1]) return this.#nack();
    const count = this.#cfg.memory.flash.wrpSectorCount;
    // AN3155 §3.9 (Write Protect): the command's first ACK has already been sent; the sector list
    // is answered by ONE ACK, after which the option bytes are programmed and the device resets.
    return this.#programOptions(
      { ...this.#cfg.memory.optionState(), wrp: new Set(Array.from(sectors).filter((s) => s < count)) },
      false,
    );
  }

  /**
   * Write Protect on I2C (AN4221, §3.2): `N ~N` → ACK, then `sectors…, XOR(sectors)`; the ACK for the
   * sectors comes after the option bytes are programmed, then the device resets.
   */
  *#writeProtectI2c(): Step<CoreExit | undefined> {
    const { memory, hooks, device } = this.#cfg;
    this.#ack();
    const [n, check] = yield 2;
    if ((n! ^ check!) !== 0xff) return this.#nack();
    this.#ack();
    const rest = yield n! + 2;
    const sectors = rest.subarray(0, n! + 1);
    if (xor(sectors) !== rest[n! + 1]) return this.#nack();
    const count = memory.flash.wrpSectorCount;
    const before = memory.optionState();
    memory.setOptionState({ ...before, wrp: new Set(Array.from(sectors).filter((s) => s < count)) });
    hooks.work(optionBytesMs(device), optionUndo(memory, before));
    this.#ack();
    return { kind: "reset" };
  }

  /** Write Unprotect and Readout Protect: ACK, program the option bytes, ACK, reset (AN3155 §3.10, §3.11). */
  #optionCommand(next: OptionState): CoreExit {
    return this.#programOptions(next, true);
  }

  /** Programs the option bytes, ACKs once at the end (after a first ACK when `leadingAck`), resets. */
  #programOptions(next: OptionState, leadingAck: boolean): CoreExit {
    const { memory, hooks, device } = this.#cfg;
    if (leadingAck) this.#ack();
    const before = memory.optionState();
    memory.setOptionState(next);
    hooks.work(optionBytesMs(device), optionUndo(memory, before));
    this.#ack();
    return { kind: "reset" };
  }

  /** Readout Unprotect 0x92 (§2.3.12): ACK, ACK, then mass erase and RDP 0 (WRP cleared too), reset. */
  #readoutUnprotect(): CoreExit {
    const { memory, hooks, device, stats } = this.#cfg;
    this.#ack();
    this.#ack();
    const before = memory.optionState();
    const erase = memory.flash.eraseRange(0, memory.flash.data.length);
    memory.setOptionState({ rdp: 0, wrp: new Set() });
    stats.massErases++;
    const options = optionUndo(memory, before);
    hooks.work(massEraseMs(device) + optionBytesMs(device), {
      restore(done) {
        erase.restore(done);
        options.restore(done);
      },
    });
    return { kind: "reset" };
  }

  /** Get Checksum 0xA1 (§2.3.14): address, length (bytes, multiple of 4), then ACK and CRC + XOR. */
  *#getChecksum(): Step<undefined> {
    const { memory, hooks } = this.#cfg;
    this.#ack();
    const address = yield* this.#address();
    const area = address === undefined ? undefined : memory.areaAt(address);
    if (address === undefined || !area?.readable || address % 4 !== 0) return this.#nack();
    this.#ack();
    const frame = yield 5;
    if (xor(frame) !== 0) return this.#nack();
    const length = be32(frame);
    if (length === 0 || length % 4 !== 0 || address + length > memory.readableEnd(area)) return this.#nack();
    this.#ack();
    const crc = hooks.checksumLie?.(address, length) ?? stm32Crc(memory.read(address, length));
    hooks.work((length / 4) * CRC_MS_PER_WORD);
    this.#ack();
    const bytes = [crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff];
    return this.#send(...bytes, xor(bytes));
  }

  /** Four address bytes and their XOR; undefined when the checksum is wrong. */
  *#address(): Step<number | undefined> {
    const frame = yield 5;
    return xor(frame) === 0 ? be32(frame) : undefined;
  }

  #ack(): undefined {
    return this.#send(ACK);
  }

  #nack(): undefined {
    this.#cfg.stats.nacks++;
    return this.#send(NACK);
  }

  #send(...bytes: number[]): undefined {
    this.#cfg.hooks.send(bytes);
    return undefined;
  }
}

/** Only families that document a page-list limit refuse longer lists (L0 511, L1 512). */
function tooManyPages(device: DeviceInfo, count: number): boolean {
  return device.eraseListLimit !== undefined && count > device.eraseListLimit;
}

function xor(bytes: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < bytes.length; i++) x ^= bytes[i]!;
  return x;
}

function be32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Mass erase time; parts without a mass-erase figure (L0) take the sum of their page erases. */
function massEraseMs(device: DeviceInfo): number {
  const { massEraseMs, eraseUnit } = device.timing;
  if (massEraseMs.typ > 0) return massEraseMs.typ;
  const size = device.flash.end - device.flash.start;
  const unit = device.erase.kind === "pages" ? device.erase.pageSize : size;
  return (size / unit) * (eraseUnit.baseMs.typ + (eraseUnit.perKiBMs.typ * unit) / 1024);
}

/** Option-byte programming: modelled as one erase cycle without the per-KiB part. */
function optionBytesMs(device: DeviceInfo): number {
  return device.timing.eraseUnit.baseMs.typ;
}

/** Option changes land at the end of the operation: a cut before it leaves the old options. */
function optionUndo(memory: SimMemory, before: OptionState, restoreImage?: () => void): Undo {
  return {
    restore(done) {
      if (done >= 1) return;
      restoreImage?.();
      memory.setOptionState(before);
    },
  };
}
