/**
 * The module's address map: main flash, RAM (the host part and the bootloader-reserved part below
 * `device.ram.start`), option bytes, system memory and identification extras. The bootloader core
 * asks it which area an address falls in and what the area allows (docs/protocol.md §2.5);
 * `read` and `load` are also the tests' backdoor (`sim.memory`).
 */
import { addr } from "../../util/logger.js";
import type { DeviceInfo } from "../../targets/index.js";
import { SimFlash } from "./flash.js";
import {
  defaultOptionBytes,
  optionLayout,
  parseOptionBytes,
  renderOptionBytes,
  systemAreas,
  type OptionLayout,
  type OptionState,
} from "./system-info.js";

export type AreaKind = "flash" | "ram" | "reserved-ram" | "option-bytes" | "system";

export interface MemoryArea {
  kind: AreaKind;
  start: number;
  end: number;
  /** Read Memory / Get Checksum may start here. */
  readable: boolean;
  /** Write Memory may target it. */
  writable: boolean;
  /** Go may jump here (flash and host RAM; AN3155 v2.1+ refuses the rest). */
  executable: boolean;
  bytes: Uint8Array;
}

const RAM_BASE = 0x20000000;

export class SimMemory {
  readonly flash: SimFlash;
  readonly ram: Uint8Array;
  readonly areas: readonly MemoryArea[];
  readonly optionLayout: OptionLayout;
  readonly #options: MemoryArea | undefined;
  rdp: 0 | 1 = 0;

  constructor(readonly device: DeviceInfo) {
    this.flash = new SimFlash(device);
    this.ram = new Uint8Array(device.ram.end - RAM_BASE);
    this.optionLayout = optionLayout(device);
    const areas: MemoryArea[] = [
      {
        kind: "flash",
        start: device.flash.start,
        end: device.flash.end,
        readable: true,
        writable: true,
        executable: true,
        bytes: this.flash.data,
      },
      {
        kind: "reserved-ram",
        start: RAM_BASE,
        end: device.ram.start,
        readable: false,
        writable: false,
        executable: false,
        bytes: this.ram.subarray(0, device.ram.start - RAM_BASE),
      },
      {
        kind: "ram",
        start: device.ram.start,
        end: device.ram.end,
        readable: true,
        writable: true,
        executable: true,
        bytes: this.ram.subarray(device.ram.start - RAM_BASE),
      },
    ];
    if (device.optionBytes) {
      const { start, end } = device.optionBytes;
      this.#options = {
        kind: "option-bytes",
        start,
        end,
        readable: true,
        writable: true,
        executable: false,
        bytes: defaultOptionBytes(this.optionLayout, end - start),
      };
      areas.push(this.#options);
    }
    if (device.optionBytes2) {
      // Bank 2's block: readable, 0xFF (no protection); writes to it are not modelled.
      const { start, end } = device.optionBytes2;
      areas.push({
        kind: "system",
        start,
        end,
        readable: true,
        writable: false,
        executable: false,
        bytes: new Uint8Array(end - start).fill(0xff),
      });
    }
    for (const extra of systemAreas(device)) {
      const end = extra.start + extra.content.length;
      if (areas.some((a) => a.start < end && a.end > extra.start)) continue;
      areas.push({
        kind: "system",
        start: extra.start,
        end,
        readable: true,
        writable: false,
        executable: false,
        bytes: extra.content,
      });
    }
    this.areas = areas.sort((a, b) => a.start - b.start);
    this.renderOptions();
  }

  get wrp(): ReadonlySet<number> {
    return this.flash.wrp;
  }

  optionState(): OptionState {
    return { rdp: this.rdp, wrp: new Set(this.flash.wrp) };
  }

  setOptionState(state: OptionState): void {
    this.rdp = state.rdp;
    this.flash.wrp = new Set(state.wrp);
    this.renderOptions();
  }

  /** Re-derives RDP/WRP from the option-byte image after a Write Memory into it (applied at the reset). */
  applyOptionBytesImage(): void {
    if (!this.#options) return;
    this.setOptionState(parseOptionBytes(this.optionLayout, this.#options.bytes, this.optionState()));
  }

  renderOptions(): void {
    if (!this.#options) return;
    renderOptionBytes(this.optionLayout, this.#options.bytes, this.optionState());
  }

  areaAt(address: number): MemoryArea | undefined {
    return this.areas.find((a) => address >= a.start && address < a.end);
  }

  /** End of the readable span starting in `area`: adjacent readable areas count as one (e.g. L0 option bytes + UID). */
  readableEnd(area: MemoryArea): number {
    let end = area.end;
    for (const next of this.areas) if (next.start === end && next.readable) end = next.end;
    return end;
  }

  /** Bytes at [address, address+length) across adjacent areas, ignoring protection. Throws on unmapped addresses. */
  read(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = address + done;
      const area = this.areaAt(at);
      if (!area) throw new RangeError(`sim memory: ${addr(at)} is not mapped on ${this.device.name}`);
      const n = Math.min(length - done, area.end - at);
      out.set(area.bytes.subarray(at - area.start, at - area.start + n), done);
      done += n;
    }
    return out;
  }

  /**
   * Sets bytes without flash rules or timing (preloading an "old firmware", or RAM). Throws on
   * unmapped addresses. Writing the option bytes re-derives RDP/WRP from them.
   */
  load(address: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const at = address + done;
      const area = this.areaAt(at);
      if (!area) throw new RangeError(`sim memory: ${addr(at)} is not mapped on ${this.device.name}`);
      const n = Math.min(bytes.length - done, area.end - at);
      const piece = bytes.subarray(done, done + n);
      if (area.kind === "flash") this.flash.load(at - area.start, piece);
      else area.bytes.set(piece, at - area.start);
      if (area.kind === "option-bytes") this.applyOptionBytesImage();
      done += n;
    }
  }

  /** RAM loses its content when power goes. */
  clearRam(): void {
    this.ram.fill(0);
  }
}
