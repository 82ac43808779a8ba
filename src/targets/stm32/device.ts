/**
 * What the host knows about a part from its product ID (AN2606 data, see
 * docs/protocol.md §4): memory map, erase units, flash word and timings.
 * The table itself lives in devices.ts; this file is the shape and the address arithmetic.
 */

/** A half-open address range [start, end). */
export interface AddressRange {
  start: number;
  end: number;
}

export type EraseLayout =
  /** Uniform pages, numbered from 0 at the flash start (F0, F1, F3, G0, G4, L0, L1, L4, WB, WL, U5, C0). */
  | { kind: "pages"; pageSize: number }
  /** Sectors of differing sizes, listed in address order (F2/F4/F7 sector maps, H7 128 KiB sectors). */
  | { kind: "sectors"; sizes: readonly number[] };

export interface TimingRange {
  typ: number;
  max: number;
}

export interface FlashTiming {
  /** Programming one flash word (`flashWord` bytes), in microseconds. */
  programWordUs: TimingRange;
  /** Erasing one unit: `baseMs + perKiBMs × size/1024`, typical and worst case. */
  eraseUnit: { baseMs: TimingRange; perKiBMs: TimingRange };
  /** Mass erase (whole flash, or one bank on dual-bank parts), in milliseconds. */
  massEraseMs: TimingRange;
}

export type Family =
  | "C0"
  | "F0"
  | "F1"
  | "F2"
  | "F3"
  | "F4"
  | "F7"
  | "G0"
  | "G4"
  | "H5"
  | "H7"
  | "L0"
  | "L1"
  | "L4"
  | "L5"
  | "U5"
  | "WB"
  | "WL";

export interface DeviceInfo {
  /** 12-bit product ID returned by Get ID, e.g. 0x410. */
  pid: number;
  /** Marketing name of the line, e.g. "STM32F10x medium-density". */
  name: string;
  family: Family;
  /** Short names accepted on the command line, lower case: "f103", "f103c8". The first is canonical. */
  aliases: readonly string[];
  flash: AddressRange;
  /** RAM the host may use (above the bootloader's reserved area). */
  ram: AddressRange;
  /** Option bytes, where they are memory mapped (absent on register-based parts). */
  optionBytes?: AddressRange;
  systemMemory: AddressRange;
  erase: EraseLayout;
  /** Write-protection granule in erase units (F1: 4 pages of 1 KiB per sector). */
  unitsPerWrpSector: number;
  /** Programming granularity in bytes: 2 (F0/F1/F3), 4 (F2/F4/F7/L0/L1), 8 (G0/G4/L4/WB/WL), 16 (L5/U5/H5), 32 (H7). */
  flashWord: number;
  /** False on L0/L1: Extended Erase 0xFFFF is refused, erase page lists instead. */
  massErase: boolean;
  /** Largest page count one erase command may carry (stm32flash's 511 split for L0/L1). */
  maxUnitsPerErase: number;
  /** Two flash banks that can be mass-erased separately (0xFFFE / 0xFFFD codes). */
  dualBank: boolean;
  timing: FlashTiming;
  /** Defaults for the simulator and for first contact; a real part's Get reply always wins. */
  bootloader: {
    /** USART protocol version byte from Get, e.g. 0x22, 0x31, 0x33. */
    usartVersion: number;
    /** I2C protocol version byte (0x10, 0x11, 0x12) where the part has an I2C bootloader. */
    i2cVersion?: number;
    /** 7-bit I2C slave address of the bootloader (AN2606), where known. */
    i2cAddress?: number;
  };
}

/** One erase unit (page or sector) with its index as the erase commands number it. */
export interface EraseUnit {
  index: number;
  start: number;
  size: number;
}

/** All erase units of a device's flash, in address order. */
export function eraseUnits(device: DeviceInfo): EraseUnit[] {
  const units: EraseUnit[] = [];
  let start = device.flash.start;
  if (device.erase.kind === "pages") {
    const { pageSize } = device.erase;
    for (let index = 0; start < device.flash.end; index++, start += pageSize) {
      units.push({ index, start, size: pageSize });
    }
  } else {
    device.erase.sizes.forEach((size, index) => {
      units.push({ index, start, size });
      start += size;
    });
  }
  return units;
}

/** The erase units that intersect [start, end), in address order. */
export function unitsCovering(device: DeviceInfo, start: number, end: number): EraseUnit[] {
  return eraseUnits(device).filter((u) => u.start < end && u.start + u.size > start);
}

/** Modelled erase time of one unit, typical or worst case, in milliseconds. */
export function unitEraseMs(device: DeviceInfo, size: number, which: keyof TimingRange = "typ"): number {
  const { baseMs, perKiBMs } = device.timing.eraseUnit;
  return baseMs[which] + (perKiBMs[which] * size) / 1024;
}

/** Modelled programming time of `bytes` bytes, in milliseconds. */
export function programMs(device: DeviceInfo, bytes: number, which: keyof TimingRange = "typ"): number {
  return (Math.ceil(bytes / device.flashWord) * device.timing.programWordUs[which]) / 1000;
}

export function flashSize(device: DeviceInfo): number {
  return device.flash.end - device.flash.start;
}
