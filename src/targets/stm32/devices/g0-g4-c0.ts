/**
 * STM32G0, STM32G4 and STM32C0 (docs/protocol.md §4.1): 2 KiB pages, 64-bit double-word
 * programming, option bytes at 1FFF7800, system memory at 1FFF0000.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, V33_WITH_GET_CHECKSUM, flashOf, optionBytes, pages, span } from "./layout.js";
import { G0_C0_TIMING, L4_G4_WB_WL_TIMING } from "./timing.js";

const common = {
  erase: pages(2 * KiB),
  unitsPerWrpSector: 1,
  flashWord: 8,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
} as const;

const g0 = {
  ...common,
  family: "G0",
  optionBytes: optionBytes(0x1fff7800, 0x1fff787f),
  timing: G0_C0_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

const g4 = {
  ...common,
  family: "G4",
  optionBytes: optionBytes(0x1fff7800, 0x1fff782f),
  systemMemory: span(0x1fff0000, 0x1fff7000),
  timing: L4_G4_WB_WL_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

export const G0_DEVICES: readonly DeviceInfo[] = [
  {
    ...g0,
    pid: 0x466,
    name: "STM32G03x/G04x",
    aliases: ["g031", "g030", "g041", "g031k8", "g030f6"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20002000),
    systemMemory: span(0x1fff0000, 0x1fff2000),
  },
  {
    ...g0,
    pid: 0x460,
    name: "STM32G07x/G08x",
    aliases: ["g071", "g070", "g081", "g071rb", "g071kb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20002700, 0x20009000),
    systemMemory: span(0x1fff0000, 0x1fff7000),
    // I2C1 address 0x51 from the Linux ucsi_stm32g0 driver (§3.4, high confidence); I2C v1.2.
    bootloader: { usartVersion: 0x31, i2cVersion: 0x12, i2cAddress: 0x51 },
  },
  {
    ...g0,
    pid: 0x467,
    name: "STM32G0B0/B1/C1",
    aliases: ["g0b1", "g0b0", "g0c1", "g0b1re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20020000),
    systemMemory: span(0x1fff0000, 0x1fff7000),
    dualBank: true,
    bootloader: { usartVersion: V33_WITH_GET_CHECKSUM },
  },
  {
    ...g0,
    pid: 0x456,
    name: "STM32G05x/G061",
    aliases: ["g051", "g050", "g061", "g051k8"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20004800),
    systemMemory: span(0x1fff0000, 0x1fff2000),
  },
];

export const G4_DEVICES: readonly DeviceInfo[] = [
  {
    ...g4,
    pid: 0x468,
    name: "STM32G431/G441",
    aliases: ["g431", "g441", "g431kb", "g431rb", "g431cb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20004000, 0x20005800),
  },
  {
    ...g4,
    pid: 0x469,
    name: "STM32G47x/G48x",
    aliases: ["g474", "g473", "g471", "g483", "g484", "g474re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20018000),
    // 2 KiB pages in dual-bank mode (DBANK=1, the factory default); single-bank mode has 4 KiB pages.
    dualBank: true,
  },
  {
    ...g4,
    pid: 0x479,
    name: "STM32G491/G4A1",
    aliases: ["g491", "g4a1", "g491re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x2001c000),
  },
];

const c0 = {
  ...common,
  family: "C0",
  optionBytes: optionBytes(0x1fff7800, 0x1fff787f),
  systemMemory: span(0x1fff0000, 0x1fff1800),
  timing: G0_C0_TIMING,
  bootloader: { usartVersion: V33_WITH_GET_CHECKSUM },
} as const;

export const C0_DEVICES: readonly DeviceInfo[] = [
  {
    ...c0,
    pid: 0x443,
    name: "STM32C011",
    aliases: ["c011", "c011f6", "c011j6", "c011d6"],
    flash: flashOf(32 * KiB),
    // The reference's row (from stm32loader) ends at 0x20003000, past the 6 KiB of SRAM a C011 has;
    // assumption: the bootloader keeps its first 4 KiB as on the row, so the host gets 2 KiB.
    ram: span(0x20001000, 0x20001800),
  },
  {
    ...c0,
    pid: 0x453,
    name: "STM32C031",
    aliases: ["c031", "c031c6", "c031k6", "c031f6"],
    flash: flashOf(32 * KiB),
    // The two sources conflict (§4.1); assumption: the same 4 KiB bootloader area as the C011 row,
    // up to the end of the 12 KiB of SRAM.
    ram: span(0x20001000, 0x20003000),
  },
];
