/**
 * STM32WB and STM32WL (64-bit programming, L4-like flash) and the newer STM32U5 and STM32H5
 * (128-bit programming, 8 KiB pages or sectors, option bytes in registers, system memory in the
 * 0x0BFxxxxx region). Protocol reference §4.1; U5/H5 rows marked † there come from stm32loader.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, V33_WITH_GET_CHECKSUM, flashOf, optionBytes, pages, span } from "./layout.js";
import { L4_G4_WB_WL_TIMING, L5_U5_H5_TIMING } from "./timing.js";

const wbwl = {
  systemMemory: span(0x1fff0000, 0x1fff7000),
  unitsPerWrpSector: 1,
  flashWord: 8,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: L4_G4_WB_WL_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

export const WB_DEVICES: readonly DeviceInfo[] = [
  {
    ...wbwl,
    family: "WB",
    pid: 0x495,
    name: "STM32WB30/35/50/55",
    aliases: ["wb55", "wb50", "wb35", "wb30", "wb55rg", "wb55cg"],
    // The top of flash holds the CPU2 (radio) stack; the host must not overwrite it.
    flash: flashOf(1 * MiB),
    ram: span(0x20004000, 0x2000c000),
    optionBytes: optionBytes(0x1fff8000, 0x1fff807f),
    erase: pages(4 * KiB),
  },
  {
    ...wbwl,
    family: "WB",
    pid: 0x494,
    name: "STM32WB10/WB15",
    aliases: ["wb15", "wb10", "wb15cc"],
    flash: flashOf(320 * KiB),
    ram: span(0x20005000, 0x20040000),
    optionBytes: optionBytes(0x1fff7800, 0x1fff787f),
    erase: pages(2 * KiB),
  },
];

export const WL_DEVICES: readonly DeviceInfo[] = [
  {
    ...wbwl,
    family: "WL",
    pid: 0x497,
    name: "STM32WLE5/WL55",
    aliases: ["wl55", "wle5", "wl54", "wle4", "wl55jc", "wle5jc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20002000, 0x20010000),
    // stm32flash's inclusive end 1FFF8000 would overlap the next byte; stm32loader's 1FFF7FFF is
    // the consistent one.
    optionBytes: optionBytes(0x1fff7800, 0x1fff7fff),
    systemMemory: span(0x1fff0000, 0x1fff4000),
    erase: pages(2 * KiB),
  },
];

const u5h5 = {
  unitsPerWrpSector: 1,
  flashWord: 16,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: true,
  timing: L5_U5_H5_TIMING,
  bootloader: { usartVersion: V33_WITH_GET_CHECKSUM },
} as const;

export const U5_DEVICES: readonly DeviceInfo[] = [
  {
    ...u5h5,
    family: "U5",
    pid: 0x482,
    name: "STM32U575/U585",
    aliases: ["u575", "u585", "u575zi", "u575ri"],
    flash: flashOf(2 * MiB),
    ram: span(0x20004000, 0x200c0000),
    systemMemory: span(0x0bf90000, 0x0bfa0000),
    // 2 banks × 128 pages of 8 KiB.
    erase: pages(8 * KiB),
  },
  {
    ...u5h5,
    family: "U5",
    pid: 0x455,
    name: "STM32U535/U545",
    aliases: ["u535", "u545", "u545re"],
    // Not in the reference's table; RM0456: 512 KiB in 2 banks of 8 KiB pages.
    flash: flashOf(512 * KiB),
    // stm32loader's end 0x20240000 is past this part's SRAM; corrected to the contiguous SRAM1+SRAM2
    // (256 KiB, RM0456) above the 16 KiB bootloader area.
    ram: span(0x20004000, 0x20040000),
    systemMemory: span(0x0bf90000, 0x0bfa0000),
    erase: pages(8 * KiB),
  },
  {
    ...u5h5,
    family: "U5",
    pid: 0x481,
    name: "STM32U595/U599/U5A5/U5A9",
    aliases: ["u595", "u599", "u5a5", "u5a9", "u599zj"],
    // Not in the reference's table; RM0456: 4 MiB in 2 banks of 8 KiB pages.
    flash: flashOf(4 * MiB),
    ram: span(0x20004000, 0x20270000),
    systemMemory: span(0x0bf90000, 0x0bfa0000),
    erase: pages(8 * KiB),
  },
];

export const H5_DEVICES: readonly DeviceInfo[] = [
  {
    ...u5h5,
    family: "H5",
    pid: 0x474,
    name: "STM32H503",
    aliases: ["h503", "h503rb", "h503cb"],
    // 2 banks × 8 sectors of 8 KiB.
    flash: flashOf(128 * KiB),
    ram: span(0x20004000, 0x20008000),
    systemMemory: span(0x0bf87000, 0x0bf90000),
    erase: pages(8 * KiB),
  },
  {
    ...u5h5,
    family: "H5",
    pid: 0x484,
    name: "STM32H562/H563/H573",
    aliases: ["h563", "h573", "h562", "h563zi"],
    // 2 banks × 128 sectors of 8 KiB.
    flash: flashOf(2 * MiB),
    // stm32loader gives 0x20000000 as the start, i.e. no bootloader area at all, which is unlikely;
    // assumption: the same 16 KiB bootloader area as the other 0x0BFxxxxx parts.
    ram: span(0x20004000, 0x200a0000),
    systemMemory: span(0x0bf97000, 0x0bfa0000),
    erase: pages(8 * KiB),
  },
];
