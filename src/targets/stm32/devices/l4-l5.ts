/**
 * STM32L4, L4+ and L5 (docs/protocol.md §4.1): 2 KiB pages (4 KiB on the L4+ lines in dual-bank
 * mode), 64-bit programming on L4, 128-bit on L5.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, flashOf, optionBytes, pages, span } from "./layout.js";
import { L4_G4_WB_WL_TIMING, L5_U5_H5_TIMING } from "./timing.js";

const l4 = {
  family: "L4",
  systemMemory: span(0x1fff0000, 0x1fff7000),
  optionBytes: optionBytes(0x1fff7800, 0x1fff780f),
  erase: pages(2 * KiB),
  unitsPerWrpSector: 1,
  flashWord: 8,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: L4_G4_WB_WL_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

/**
 * The dual-bank L47x/L49x/L4R lines have a second option-byte block at 1FFFF800–1FFFF80F. §4.1 writes
 * both as one range (1FFF7800–1FFFF80F), which would span 32 KiB of unmapped space; DeviceInfo holds
 * one range, so it is the bank-1 block, as on the single-bank L4 lines.
 */
const L4_DUAL_BANK_OPTION_BYTES = optionBytes(0x1fff7800, 0x1fff780f);

export const L4_DEVICES: readonly DeviceInfo[] = [
  {
    ...l4,
    pid: 0x464,
    name: "STM32L412/L422",
    aliases: ["l412", "l422", "l412kb", "l412rb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20003100, 0x20008000),
  },
  {
    ...l4,
    pid: 0x435,
    name: "STM32L43x/L44x",
    aliases: ["l432", "l431", "l433", "l442", "l443", "l432kc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20003100, 0x2000c000),
  },
  {
    ...l4,
    pid: 0x462,
    name: "STM32L45x/L46x",
    aliases: ["l452", "l451", "l462", "l452re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20003100, 0x20020000),
    // I2C address 0x4A from a write-up on the L452 (§3.4, medium confidence); version not given.
    bootloader: { usartVersion: 0x31, i2cAddress: 0x4a },
  },
  {
    ...l4,
    pid: 0x415,
    name: "STM32L47x/L48x",
    aliases: ["l476", "l475", "l471", "l486", "l476rg", "l475vg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003100, 0x20018000),
    optionBytes: L4_DUAL_BANK_OPTION_BYTES,
    dualBank: true,
  },
  {
    ...l4,
    pid: 0x461,
    name: "STM32L496/L4A6",
    aliases: ["l496", "l4a6", "l496zg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003100, 0x20040000),
    optionBytes: L4_DUAL_BANK_OPTION_BYTES,
    dualBank: true,
  },
  {
    ...l4,
    pid: 0x470,
    name: "STM32L4R/L4S",
    aliases: ["l4r5", "l4r7", "l4r9", "l4s5", "l4s7", "l4s9", "l4r5zi"],
    // stm32flash says 1 MiB of 2 KiB pages, which the reference flags as suspect (§4.1 caveats).
    // RM0432: up to 2 MiB, 4 KiB pages in dual-bank mode (DBANK=1, the factory default), 8 KiB in
    // single-bank mode. This row describes the largest member in its default mode.
    flash: flashOf(2 * MiB),
    ram: span(0x20003200, 0x200a0000),
    optionBytes: L4_DUAL_BANK_OPTION_BYTES,
    erase: pages(4 * KiB),
    dualBank: true,
  },
  {
    ...l4,
    pid: 0x471,
    name: "STM32L4P5/L4Q5",
    aliases: ["l4p5", "l4q5", "l4p5zg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20004000, 0x20050000),
    optionBytes: optionBytes(0x1ff00000, 0x1ff0000f),
    erase: pages(4 * KiB),
    dualBank: true,
  },
];

export const L5_DEVICES: readonly DeviceInfo[] = [
  {
    family: "L5",
    pid: 0x472,
    name: "STM32L552/L562",
    aliases: ["l552", "l562", "l552ze"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20040000),
    // Option bytes are registers on L5 (not memory mapped).
    systemMemory: span(0x0bf90000, 0x0bf98000),
    // 2 KiB pages in dual-bank mode (DBANK=1, the factory default).
    erase: pages(2 * KiB),
    unitsPerWrpSector: 1,
    flashWord: 16,
    massErase: true,
    maxUnitsPerErase: 511,
    dualBank: true,
    timing: L5_U5_H5_TIMING,
    bootloader: { usartVersion: 0x31 },
  },
];
