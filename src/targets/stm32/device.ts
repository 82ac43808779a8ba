/**
 * What the host knows about a part from its product ID (AN2606 "device-dependent bootloader
 * parameters" and the part's reference manual): memory map, erase units, flash word, program rule,
 * timings, the bootloader's identity and what depends on option bytes. The table itself lives in
 * devices.ts; this file is the shape and the address arithmetic.
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
  | "U0"
  | "U3"
  | "WB"
  | "WBA"
  | "WL";

/**
 * What the flash controller does when a program targets a flash word that is not erased (RM, flash
 * "programming errors"):
 * - `zero-allowed`: refused (F1 PGERR, G0/L4 PROGERR) unless every bit of the new word is 0 — the
 *   documented exception (RM0008, RM0444, RM0351: "except if the data to write is all zero");
 * - `refused`: always refused (ECC flash words: H5, H7; L0/L1 NOTZEROERR). F2/F4/F7 are modelled
 *   this way too: their manuals document no exception, and a host must never rely on one.
 */
export type ReprogramRule = "zero-allowed" | "refused";

/**
 * Flash geometry that an option bit decides (dual-bank bit of L4+, G4, L5): the table's row holds
 * the factory default; the host reads the option word at connect (`probe`) when the bootloader can
 * read it, and resolves the geometry from the bit.
 */
export interface BankModeGeometry {
  /** The option bit as the reference manual names it, e.g. "DBANK (FLASH_OPTR bit 22)". */
  bit: string;
  /** Memory-mapped option word (little endian, 32 bits) and the bit's mask; absent when not readable. */
  probe?: { address: number; mask: number };
  whenSet: { erase: EraseLayout; dualBank: boolean };
  whenClear: { erase: EraseLayout; dualBank: boolean };
  /** Where it is documented, e.g. "RM0440 §3.3.1". */
  source: string;
}

/** Where a row's facts come from: the AN2606 section/table and the reference manual. */
export interface DeviceSources {
  an2606: string;
  rm: string;
  /** Facts not confirmed against the documents' text (recalled or derived), said plainly. */
  unverified?: string;
}

export type I2cInstance = "I2C1" | "I2C2" | "I2C3" | "I2C4";

/** How far a fact rests on sources: the document's text or silicon (high), one report (medium), hearsay (low). */
export type Confidence = "high" | "medium" | "low";

/** One I2C peripheral the bootloader listens on, with its pins where a source names them (AN2606). */
export interface I2cPort {
  instance: I2cInstance;
  scl?: string;
  sda?: string;
}

/**
 * What our sources say about a part's I2C ROM bootloader (AN2606's per-device "I2C configuration":
 * instance, pins, "Slave 7-bit address: 0bxxxxxxxx"; AN4221 for the protocol). Present on every part
 * known to have one; the address itself is `bootloader.i2cAddress`, absent when no public source
 * gives it (then the host must be told, or the bus scanned: bootloader I2C v1.2 answers probes).
 */
export interface I2cBootloaderFacts {
  /** Peripheral(s) and pins, where a source gives them. */
  ports?: readonly I2cPort[];
  /** Where the address was read: the AN2606 chapter and the public source that quotes it. */
  address?: { source: string; confidence: Confidence };
  /** Where the part's I2C bootloader (and ports) are documented, when the address is not known. */
  source?: string;
}

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
  /** The second bank's option-byte block on dual-bank parts that map it elsewhere (F42x, L47x, L4+). */
  optionBytes2?: AddressRange;
  systemMemory: AddressRange;
  /** A second system-memory area, where the part has one (G0B0/B1/C1: the bootloader ID lives there). */
  systemMemory2?: AddressRange;
  /** Flash-size register (16-bit, KiB), where the bootloader can read it: the row's size is the largest member's. */
  flashSizeRegister?: number;
  erase: EraseLayout;
  /** Write-protection granule in erase units (F1: 4 pages of 1 KiB per sector). */
  unitsPerWrpSector: number;
  /** Programming granularity in bytes: 2 (F0/F1/F3), 4 (F2/F4/F7/L0/L1), 8 (G0/G4/L4/WB/WL/U0/U3), 16 (L5/U5/H5/WBA), 32 (H7). */
  flashWord: number;
  /** What programming a non-erased flash word does (see ReprogramRule). */
  reprogram: ReprogramRule;
  /** False on L0/L1: Extended Erase 0xFFFF is refused, erase page lists instead. */
  massErase: boolean;
  /**
   * Largest page count the host puts in one erase command: stm32flash's proven 511 split, 255 for
   * the legacy Erase (one-byte count), 512 on L1. A host-side limit, kept even where the ROM has none.
   */
  maxUnitsPerErase: number;
  /**
   * Largest page list the ROM itself accepts, where the family documents one (L0: 511 on the L082,
   * L1: 512 on the L152, as stm32flash records them). Absent: no documented limit; the simulator then
   * accepts any list that fits the command (AN3155 §3.8: up to 0xFFF0 pages).
   */
  eraseListLimit?: number;
  /** Two flash banks that can be mass-erased separately (0xFFFE / 0xFFFD codes). */
  dualBank: boolean;
  /** Geometry decided by an option bit, resolved at connect (see BankModeGeometry). */
  bankMode?: BankModeGeometry;
  timing: FlashTiming;
  sources: DeviceSources;
  /** Defaults for the simulator and for first contact; a real part's Get reply always wins. */
  bootloader: {
    /** USART protocol version byte from Get, e.g. 0x22, 0x31, 0x33. */
    usartVersion: number;
    /** I2C protocol version byte (0x10, 0x11, 0x12) where the part has an I2C bootloader. */
    i2cVersion?: number;
    /**
     * 7-bit I2C slave address of the bootloader (AN2606, per-device "I2C configuration"), where a
     * public source gives it; `i2c.address` then says where it was read and how sure we are.
     */
    i2cAddress?: number;
    /** The I2C side of the ROM bootloader, where the part has one (see I2cBootloaderFacts). */
    i2c?: I2cBootloaderFacts;
    /**
     * AN2606's bootloader ID: high nibble the set of interfaces, low nibble the bootloader version,
     * stored at `address` near the end of system memory.
     */
    id?: { value: number; address: number };
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

/**
 * The geometry an option word selects (see BankModeGeometry): the row itself when the part has no
 * option-dependent geometry or the word is unknown, else the row with the erase layout and bank
 * count of the bit's state.
 */
export function resolveBankMode(device: DeviceInfo, optionWord: number | undefined): DeviceInfo {
  const mode = device.bankMode;
  if (!mode?.probe || optionWord === undefined) return device;
  const chosen = (optionWord & mode.probe.mask) !== 0 ? mode.whenSet : mode.whenClear;
  return { ...device, erase: chosen.erase, dualBank: chosen.dualBank };
}

/** True when the part's ROM bootloader serves I2C (AN2606), as far as the table knows. */
export function hasI2cBootloader(device: DeviceInfo): boolean {
  const b = device.bootloader;
  return b.i2cVersion !== undefined || b.i2cAddress !== undefined || b.i2c !== undefined;
}
