/**
 * Read-only extras a host may read from a real part, so identification reads work against the
 * simulator (docs/protocol.md §2.6 item 6, §4.4): the bootloader ID byte in system memory, the
 * flash-size register and the 96-bit unique ID, and a plausible option-byte image.
 *
 * Option bytes are rendered from the protection state, with three layouts:
 * - "f1" (F0/F1/F3): RDP 0xA5 = level 0, then USER, DATA0/1, WRP0..3, each byte followed by its
 *   complement; a WRP bit at 0 protects that sector;
 * - "f4" (F2/F4): byte 0 USER, byte 1 RDP (0xAA = level 0), bytes 8–9 nWRP (bit at 1 = unprotected);
 * - "generic" (other families): byte 0 RDP (0xAA = level 0), bytes 4–7 the complement of 0–3.
 * These are approximations of the reference manuals' layouts, good enough for reads and for
 * RDP/WRP changes made by writing the option-byte area.
 */
import type { DeviceInfo, Family } from "../../targets/index.js";

export interface InfoArea {
  start: number;
  content: Uint8Array;
}

interface InfoAddresses {
  /** Unique device ID (12 bytes). */
  uid: number;
  /** Flash size in KiB (16-bit little endian). */
  flashSize: number;
  /** A read-only window holding both (OTP and engineering bytes read as 0xFF). */
  window?: { start: number; end: number };
}

const INFO: Partial<Record<Family, InfoAddresses>> = {
  F0: { uid: 0x1ffff7ac, flashSize: 0x1ffff7cc },
  F1: { uid: 0x1ffff7e8, flashSize: 0x1ffff7e0 },
  F3: { uid: 0x1ffff7ac, flashSize: 0x1ffff7cc },
  // OTP, UID and flash size up to 0x1FFF7B00, so the 256-byte read at 0x1FFF7A00 that works on a real F4 works here.
  F2: { uid: 0x1fff7a10, flashSize: 0x1fff7a22, window: { start: 0x1fff7800, end: 0x1fff7b00 } },
  F4: { uid: 0x1fff7a10, flashSize: 0x1fff7a22, window: { start: 0x1fff7800, end: 0x1fff7b00 } },
  F7: { uid: 0x1ff0f420, flashSize: 0x1ff0f442, window: { start: 0x1ff0f400, end: 0x1ff0f450 } },
  G0: { uid: 0x1fff7590, flashSize: 0x1fff75e0, window: { start: 0x1fff7000, end: 0x1fff7800 } },
  G4: { uid: 0x1fff7590, flashSize: 0x1fff75e0, window: { start: 0x1fff7000, end: 0x1fff7800 } },
  L4: { uid: 0x1fff7590, flashSize: 0x1fff75e0, window: { start: 0x1fff7000, end: 0x1fff7800 } },
  WB: { uid: 0x1fff7590, flashSize: 0x1fff75e0, window: { start: 0x1fff7000, end: 0x1fff7800 } },
  WL: { uid: 0x1fff7590, flashSize: 0x1fff75e0, window: { start: 0x1fff7000, end: 0x1fff7800 } },
  L0: { uid: 0x1ff80050, flashSize: 0x1ff8007c, window: { start: 0x1ff80020, end: 0x1ff80100 } },
  L1: { uid: 0x1ff80050, flashSize: 0x1ff8004c, window: { start: 0x1ff80020, end: 0x1ff80100 } },
  H7: { uid: 0x1ff1e800, flashSize: 0x1ff1e880, window: { start: 0x1ff1e800, end: 0x1ff1e900 } },
};

/** A fixed, PID-derived unique ID so runs are reproducible. */
function uniqueId(device: DeviceInfo): Uint8Array {
  const uid = new Uint8Array(12);
  for (let i = 0; i < 12; i++) uid[i] = (device.pid * 31 + i * 17 + 0x53) & 0xff;
  return uid;
}

/**
 * System memory (ROM code reads as 0x00 here; both areas on parts that have two) with the AN2606
 * bootloader ID byte at its address, and the UID/flash-size extras.
 */
export function systemAreas(device: DeviceInfo): InfoArea[] {
  const areas: InfoArea[] = [device.systemMemory, device.systemMemory2]
    .filter((range) => range !== undefined)
    .map((range) => ({ start: range.start, content: new Uint8Array(range.end - range.start) }));
  const id = device.bootloader.id;
  if (id) {
    const area = areas.find((a) => id.address >= a.start && id.address < a.start + a.content.length);
    if (!area) throw new RangeError(`${device.name}: bootloader ID address is outside system memory`);
    area.content[id.address - area.start] = id.value;
  }
  const info = INFO[device.family];
  if (!info) return areas;
  const sizeKiB = (device.flash.end - device.flash.start) / 1024;
  const put = (address: number, bytes: Uint8Array): void => {
    const area = areas.find(
      (a) => address >= a.start && address + bytes.length <= a.start + a.content.length,
    );
    area?.content.set(bytes, address - area.start);
  };
  if (info.window)
    areas.push({
      start: info.window.start,
      content: new Uint8Array(info.window.end - info.window.start).fill(0xff),
    });
  put(info.uid, uniqueId(device));
  put(info.flashSize, new Uint8Array([sizeKiB & 0xff, sizeKiB >> 8]));
  return areas;
}

export type OptionLayout = "f1" | "f4" | "generic";

export function optionLayout(device: DeviceInfo): OptionLayout {
  if (device.family === "F0" || device.family === "F1" || device.family === "F3") return "f1";
  if (device.family === "F2" || device.family === "F4") return "f4";
  return "generic";
}

export interface OptionState {
  rdp: 0 | 1;
  /** Protected WRP sector indexes. */
  wrp: ReadonlySet<number>;
}

/** A factory-fresh option-byte image: 0xFF, with the layout's fixed USER/DATA fields. */
export function defaultOptionBytes(layout: OptionLayout, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0xff);
  const fixed =
    layout === "f1"
      ? [0xa5, 0x5a, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00]
      : layout === "f4"
        ? [0xec, 0xaa, 0x13, 0x55]
        : [0xaa];
  fixed.forEach((v, i) => i < size && (bytes[i] = v));
  return bytes;
}

/** Writes the RDP and WRP fields of `image` from the protection state; other bytes are kept. */
export function renderOptionBytes(layout: OptionLayout, image: Uint8Array, state: OptionState): void {
  const set = (i: number, v: number): void => {
    if (i < image.length) image[i] = v & 0xff;
  };
  const pair = (i: number, v: number): void => {
    set(i, v);
    set(i + 1, ~v);
  };
  if (layout === "f1") {
    pair(0, state.rdp === 0 ? 0xa5 : 0x00);
    for (let w = 0; w < 4; w++) {
      let bits = 0xff;
      for (let b = 0; b < 8; b++) if (state.wrp.has(w * 8 + b)) bits &= ~(1 << b);
      pair(8 + 2 * w, bits);
    }
  } else if (layout === "f4") {
    let nwrp = 0x0fff;
    for (const s of state.wrp) if (s < 12) nwrp &= ~(1 << s);
    set(1, state.rdp === 0 ? 0xaa : 0x55);
    set(8, nwrp);
    set(9, nwrp >> 8);
  } else {
    set(0, state.rdp === 0 ? 0xaa : 0xbb);
    set(4, ~(image[0] ?? 0xff));
  }
}

/** The protection state encoded in an option-byte image (inverse of renderOptionBytes). */
export function parseOptionBytes(layout: OptionLayout, bytes: Uint8Array, current: OptionState): OptionState {
  if (layout === "f1") {
    const wrp = new Set<number>();
    for (let w = 0; w < 4; w++) {
      const bits = bytes[8 + 2 * w] ?? 0xff;
      for (let b = 0; b < 8; b++) if (!(bits & (1 << b))) wrp.add(w * 8 + b);
    }
    return { rdp: bytes[0] === 0xa5 ? 0 : 1, wrp };
  }
  if (layout === "f4") {
    const nwrp = (bytes[8] ?? 0xff) | ((bytes[9] ?? 0xff) << 8);
    const wrp = new Set<number>();
    for (let s = 0; s < 12; s++) if (!(nwrp & (1 << s))) wrp.add(s);
    return { rdp: bytes[1] === 0xaa ? 0 : 1, wrp };
  }
  return { rdp: bytes[0] === 0xaa ? 0 : 1, wrp: current.wrp };
}
