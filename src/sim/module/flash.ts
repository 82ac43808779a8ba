/**
 * The simulated main flash: erases to 0xFF, programs one flash word at a time and only clears bits.
 *
 * Programming rule, per family as its reference manual gives it (`device.reprogram`):
 * - a flash word that is all 0xFF (erased) takes any value;
 * - `zero-allowed` (F0/F1/F3 PGERR, G0/G4/L4/WB/WL/L5/U5 PROGERR): a non-erased word takes only an
 *   all-zero value; anything else fails, INCLUDING the value it already holds (silicon does not
 *   compare: a host that re-sends a block whose ACK it lost gets a NACK and must check by reading);
 * - `refused` (ECC words: H5, H7; L0/L1 NOTZEROERR; F2/F4/F7 as modelled): a non-erased word takes nothing;
 * - a failure leaves the words before the failing one programmed; the Write Memory ends in NACK.
 * A write that covers only part of a flash word (possible on 8/16/32-byte-word parts) is padded
 * with 0xFF for the bytes it does not cover, like ST's bootloader pads, so writing the second half
 * of a half-programmed word fails unless the padding matches the word's current content.
 *
 * Write protection is per WRP sector (`unitsPerWrpSector` erase units). Programming a protected
 * sector is ACKed but changes nothing (AN3155 as recalled in the reference §2.3.6, unverified);
 * erasing one is refused.
 */
import { eraseUnits, type DeviceInfo, type EraseUnit } from "../../targets/index.js";

/** Restores what an operation changed, keeping the part of it done before a power cut. */
export interface Undo {
  /** `doneFraction` in [0, 1]: share of the operation (in address order) that completed. */
  restore(doneFraction: number): void;
}

export const NO_UNDO: Undo = { restore: () => {} };

export type ProgramResult =
  | { ok: true; bytesProgrammed: number; undo: Undo }
  | { ok: false; reason: "not-erased"; failedAt: number; bytesProgrammed: number; undo: Undo };

export class SimFlash {
  readonly data: Uint8Array;
  readonly units: readonly EraseUnit[];
  readonly start: number;
  readonly end: number;
  /** Write-protected WRP sector indexes. */
  wrp = new Set<number>();
  #dirtyStart = Infinity;
  #dirtyEnd = -Infinity;
  readonly #word: number;

  constructor(readonly device: DeviceInfo) {
    this.start = device.flash.start;
    this.end = device.flash.end;
    this.data = new Uint8Array(this.end - this.start).fill(0xff);
    this.units = eraseUnits(device);
    this.#word = device.flashWord;
  }

  get wrpSectorCount(): number {
    return Math.ceil(this.units.length / this.device.unitsPerWrpSector);
  }

  isUnitProtected(index: number): boolean {
    return this.wrp.has(Math.floor(index / this.device.unitsPerWrpSector));
  }

  /** True when [address, address+length) touches a write-protected unit. */
  isRangeProtected(address: number, length: number): boolean {
    if (this.wrp.size === 0) return false;
    return this.units.some(
      (u) => u.start < address + length && u.start + u.size > address && this.isUnitProtected(u.index),
    );
  }

  /** Programs `bytes` at `address` (inside the flash) by the rules above. */
  program(address: number, bytes: Uint8Array): ProgramResult {
    const word = this.#word;
    const offset = address - this.start;
    const first = Math.floor(offset / word) * word;
    const last = Math.ceil((offset + bytes.length) / word) * word;
    const saved = this.data.slice(first, last);
    let programmed = 0;
    const undo = (): Undo => this.#rangeUndo(first, saved.subarray(0, programmed));
    for (let w = first; w < last; w += word) {
      const next = new Uint8Array(word).fill(0xff);
      for (let i = 0; i < word; i++) {
        const src = w + i - offset;
        if (src >= 0 && src < bytes.length) next[i] = bytes[src]!;
      }
      const current = this.data.subarray(w, w + word);
      const erased = current.every((b) => b === 0xff);
      if (!erased) {
        const rule = this.device.reprogram;
        const allowed = rule === "zero-allowed" && next.every((b) => b === 0);
        if (!allowed) {
          return {
            ok: false,
            reason: "not-erased",
            failedAt: this.start + w,
            bytesProgrammed: programmed,
            undo: undo(),
          };
        }
      }
      if (!sameBytes(current, next)) {
        current.set(next);
        this.#markDirty(w, w + word);
      }
      programmed += word;
    }
    return { ok: true, bytesProgrammed: programmed, undo: undo() };
  }

  /** Erases the given units (validated by the caller), in order. */
  eraseUnits(indexes: readonly number[]): Undo {
    const ranges = indexes.map((i) => {
      const unit = this.units[i]!;
      return {
        first: unit.start - this.start,
        saved: this.data.slice(unit.start - this.start, unit.start - this.start + unit.size),
      };
    });
    for (const { first, saved } of ranges) {
      this.data.fill(0xff, first, first + saved.length);
      this.#markDirty(first, first + saved.length);
    }
    return sweepUndo(ranges.map(({ first, saved }) => this.#rangeUndoParts(first, saved)));
  }

  /** Erases [from, to) flash offsets: mass erase (whole array) or one bank. */
  eraseRange(from: number, to: number): Undo {
    const saved = this.data.slice(from, to);
    this.data.fill(0xff, from, to);
    this.#markDirty(from, to);
    return this.#rangeUndo(from, saved);
  }

  /** Sets raw content without any flash rule (test backdoor, file load). */
  load(offset: number, bytes: Uint8Array): void {
    this.data.set(bytes, offset);
    this.#markDirty(offset, offset + bytes.length);
  }

  /** The range of flash offsets changed since the last call, or undefined. */
  takeDirty(): { start: number; end: number } | undefined {
    if (this.#dirtyStart >= this.#dirtyEnd) return undefined;
    const range = { start: this.#dirtyStart, end: this.#dirtyEnd };
    this.#dirtyStart = Infinity;
    this.#dirtyEnd = -Infinity;
    return range;
  }

  #markDirty(from: number, to: number): void {
    this.#dirtyStart = Math.min(this.#dirtyStart, from);
    this.#dirtyEnd = Math.max(this.#dirtyEnd, to);
  }

  #rangeUndoParts(first: number, saved: Uint8Array): { length: number; restoreFrom: (done: number) => void } {
    return {
      length: saved.length,
      restoreFrom: (done: number) => {
        // Whole flash words survive; the word being worked on at the cut is lost (restored).
        const keep = Math.floor(done / this.#word) * this.#word;
        if (keep >= saved.length) return;
        this.data.set(saved.subarray(keep), first + keep);
        this.#markDirty(first + keep, first + saved.length);
      },
    };
  }

  #rangeUndo(first: number, saved: Uint8Array): Undo {
    return sweepUndo([this.#rangeUndoParts(first, saved)]);
  }
}

/** An operation that sweeps its ranges in order at constant speed; a cut keeps the swept prefix. */
function sweepUndo(parts: Array<{ length: number; restoreFrom: (done: number) => void }>): Undo {
  const total = parts.reduce((n, p) => n + p.length, 0);
  return {
    restore(doneFraction) {
      let done = Math.floor(Math.min(1, Math.max(0, doneFraction)) * total);
      for (const part of parts) {
        part.restoreFrom(Math.min(done, part.length));
        done = Math.max(0, done - part.length);
      }
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
