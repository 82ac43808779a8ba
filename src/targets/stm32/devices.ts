/**
 * The device table: product ID → memory map, erase layout, flash word and timings.
 * Sources: AN2606 via stm32flash's dev_table.c and stm32loader's devices.py, summarised in
 * shared/docs/stm32-bootloader-protocol.md §4 and §5.1. Timings are datasheet orders of magnitude.
 */
import type { DeviceInfo, FlashTiming } from "./device.js";
import { BootloaderError } from "./errors.js";

const KiB = 1024;

/** F0/F1/F3: 16-bit programming ~52 µs, 1–2 KiB page erase 20–40 ms. */
const f1Timing: FlashTiming = {
  programWordUs: { typ: 52, max: 70 },
  eraseUnit: { baseMs: { typ: 20, max: 40 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 30, max: 40 },
};

/** F2/F4 at 2.7–3.6 V (x32): 16 KiB ≈ 250 ms, 64 KiB ≈ 550 ms, 128 KiB ≈ 1 s typical; twice that worst case. */
const f4Timing: FlashTiming = {
  programWordUs: { typ: 16, max: 100 },
  eraseUnit: { baseMs: { typ: 150, max: 300 }, perKiBMs: { typ: 6.25, max: 12.5 } },
  massEraseMs: { typ: 8_000, max: 32_000 },
};

/** G0: 64-bit programming ~85 µs, 2 KiB page 22 ms typ / 40 ms max. */
const g0Timing: FlashTiming = {
  programWordUs: { typ: 85, max: 125 },
  eraseUnit: { baseMs: { typ: 22, max: 40 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 22, max: 41 },
};

/** L0: 32-bit word writes ~3.2 ms per half-page burst in RM; modelled per word. 128 B page ~3.2 ms. */
const l0Timing: FlashTiming = {
  programWordUs: { typ: 100, max: 200 },
  eraseUnit: { baseMs: { typ: 3.2, max: 3.6 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 0, max: 0 },
};

/** H7: 256-bit flash word; 128 KiB sector ~1–2 s typical, a few seconds worst case. */
const h7Timing: FlashTiming = {
  programWordUs: { typ: 100, max: 200 },
  eraseUnit: { baseMs: { typ: 200, max: 500 }, perKiBMs: { typ: 12, max: 30 } },
  massEraseMs: { typ: 4_000, max: 16_000 },
};

const f4Sectors = (totalKiB: number): number[] => {
  const sizes = [16, 16, 16, 16, 64].map((k) => k * KiB);
  while (sizes.reduce((a, b) => a + b, 0) < totalKiB * KiB) sizes.push(128 * KiB);
  return sizes;
};

export const DEVICES: readonly DeviceInfo[] = [
  {
    pid: 0x410,
    name: "STM32F10x medium-density",
    family: "F1",
    aliases: ["f103", "f103c8", "f103rb", "f101", "f102"],
    flash: { start: 0x08000000, end: 0x08020000 },
    ram: { start: 0x20000200, end: 0x20005000 },
    optionBytes: { start: 0x1ffff800, end: 0x1ffff810 },
    systemMemory: { start: 0x1ffff000, end: 0x1ffff800 },
    erase: { kind: "pages", pageSize: 1 * KiB },
    unitsPerWrpSector: 4,
    flashWord: 2,
    massErase: true,
    maxUnitsPerErase: 255,
    dualBank: false,
    timing: f1Timing,
    bootloader: { usartVersion: 0x22 },
  },
  {
    pid: 0x413,
    name: "STM32F405/407/415/417",
    family: "F4",
    aliases: ["f407", "f405", "f415", "f417"],
    flash: { start: 0x08000000, end: 0x08100000 },
    ram: { start: 0x20003000, end: 0x20020000 },
    optionBytes: { start: 0x1fffc000, end: 0x1fffc010 },
    systemMemory: { start: 0x1fff0000, end: 0x1fff7800 },
    erase: { kind: "sectors", sizes: f4Sectors(1024) },
    unitsPerWrpSector: 1,
    flashWord: 4,
    massErase: true,
    maxUnitsPerErase: 511,
    dualBank: false,
    timing: f4Timing,
    bootloader: { usartVersion: 0x31, i2cVersion: 0x10 },
  },
  {
    pid: 0x460,
    name: "STM32G07x/G08x",
    family: "G0",
    aliases: ["g071", "g070", "g081"],
    flash: { start: 0x08000000, end: 0x08020000 },
    ram: { start: 0x20002700, end: 0x20009000 },
    optionBytes: { start: 0x1fff7800, end: 0x1fff7880 },
    systemMemory: { start: 0x1fff0000, end: 0x1fff7000 },
    erase: { kind: "pages", pageSize: 2 * KiB },
    unitsPerWrpSector: 1,
    flashWord: 8,
    massErase: true,
    maxUnitsPerErase: 511,
    dualBank: false,
    timing: g0Timing,
    bootloader: { usartVersion: 0x31, i2cVersion: 0x12, i2cAddress: 0x51 },
  },
  {
    pid: 0x447,
    name: "STM32L07x/L08x",
    family: "L0",
    aliases: ["l073", "l072", "l071", "l082"],
    flash: { start: 0x08000000, end: 0x08030000 },
    ram: { start: 0x20002000, end: 0x20005000 },
    optionBytes: { start: 0x1ff80000, end: 0x1ff80020 },
    systemMemory: { start: 0x1ff00000, end: 0x1ff02000 },
    erase: { kind: "pages", pageSize: 128 },
    unitsPerWrpSector: 32,
    flashWord: 4,
    massErase: false,
    maxUnitsPerErase: 511,
    dualBank: false,
    timing: l0Timing,
    bootloader: { usartVersion: 0x31, i2cVersion: 0x11 },
  },
  {
    pid: 0x450,
    name: "STM32H74x/H75x",
    family: "H7",
    aliases: ["h743", "h753", "h750", "h742"],
    flash: { start: 0x08000000, end: 0x08200000 },
    ram: { start: 0x20004100, end: 0x20020000 },
    systemMemory: { start: 0x1ff00000, end: 0x1ff1e800 },
    erase: { kind: "sectors", sizes: Array.from({ length: 16 }, () => 128 * KiB) },
    unitsPerWrpSector: 1,
    flashWord: 32,
    massErase: true,
    maxUnitsPerErase: 511,
    dualBank: true,
    timing: h7Timing,
    bootloader: { usartVersion: 0x31 },
  },
];

const byPid = new Map(DEVICES.map((d) => [d.pid, d]));

/** The device with this product ID, or undefined. */
export function findDevice(pid: number): DeviceInfo | undefined {
  return byPid.get(pid);
}

/**
 * Resolves a command-line device name: a product ID ("0x410", "1040") or a short part name ("f103",
 * "G071"). Throws BootloaderError "unknown-device" listing what would have been accepted.
 */
export function resolveDevice(nameOrPid: string): DeviceInfo {
  const key = nameOrPid.trim().toLowerCase();
  const pid = /^0x[0-9a-f]+$/.test(key) ? Number.parseInt(key, 16) : /^\d+$/.test(key) ? Number(key) : undefined;
  const found =
    pid !== undefined ? byPid.get(pid) : DEVICES.find((d) => d.aliases.includes(key) || d.aliases.includes(key.replace(/^stm32/, "")));
  if (!found) {
    const names = DEVICES.map((d) => d.aliases[0]).join(", ");
    throw new BootloaderError("unknown-device", `unknown device "${nameOrPid}": give a product ID such as 0x410 or a part name (${names})`, {
      device: nameOrPid,
    });
  }
  return found;
}
