/**
 * STM32L4, L4+ and L5 (docs/protocol.md §4.1): 2 KiB pages (4 KiB on the L4+ lines in dual-bank
 * mode), 64-bit programming on L4, 128-bit on L5.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, bid, flashOf, optionBytes, pages, sources, span } from "./layout.js";
import { L4_G4_WB_WL_TIMING, L5_U5_H5_TIMING } from "./timing.js";
import { L43X_I2C, L45X_I2C } from "./i2c-sources.js";

/** RM0394/RM0351/RM0432 "Flash program and erase operations": PROGERR unless erased or all zero. */
const L4_RM = "RM0394 §3.3.7 (Flash main memory programming sequences; PROGERR)";
const L47_RM = "RM0351 §3.3.7 (programming; PROGERR) and §3.4 (FLASH option bytes)";
const L4P_RM = "RM0432 §3.3.1 (Flash memory organization, DBANK) and §3.4 (FLASH option bytes)";
const L5_RM = "RM0438 §6.3.1 (Flash memory organization, DBANK) and §6.3.7 (programming; PROGERR)";

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
  reprogram: "zero-allowed",
  bootloader: { usartVersion: 0x31 },
} as const;

/**
 * The dual-bank L47x/L49x lines have two option-byte blocks: bank 1's at 1FFF7800 (OPTR, PCROP1,
 * WRP1A/B) and bank 2's at 1FFFF800 (PCROP2, WRP2A/B), each 40 bytes of value/complement double
 * words (RM0351 §3.4.1). stm32flash writes them as one range, 1FFF7800–1FFFF80F, which would span
 * 32 KiB of unmapped space; we keep two blocks.
 */
const L47_OPTION_BYTES = optionBytes(0x1fff7800, 0x1fff7827);
const L47_OPTION_BYTES_2 = optionBytes(0x1ffff800, 0x1ffff827);
/** L4+ (RM0432 §3.4.1): the blocks sit at 1FF00000 (bank 1) and 1FF01000 (bank 2). */
const L4P_OPTION_BYTES = optionBytes(0x1ff00000, 0x1ff0002f);
const L4P_OPTION_BYTES_2 = optionBytes(0x1ff01000, 0x1ff0102f);

/** L4+ DBANK: 4 KiB pages in two banks (factory default) or 8 KiB pages in one (RM0432 §3.3.1). */
const L4P_BANK_MODE = {
  bit: "DBANK (FLASH_OPTR bit 22, option word at 0x1FF00000)",
  probe: { address: 0x1ff00000, mask: 1 << 22 },
  whenSet: { erase: pages(4 * KiB), dualBank: true },
  whenClear: { erase: pages(8 * KiB), dualBank: false },
  source: "RM0432 §3.3.1 (Flash memory organization)",
} as const;

export const L4_DEVICES: readonly DeviceInfo[] = [
  {
    ...l4,
    pid: 0x464,
    name: "STM32L412/L422",
    aliases: ["l412", "l422", "l412kb", "l412rb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20003100, 0x20008000),
    bootloader: { ...l4.bootloader, id: bid(0xd1, 0x1fff6ffe) },
    sources: sources("STM32L412xx/422xx devices bootloader", L4_RM),
  },
  {
    ...l4,
    pid: 0x435,
    name: "STM32L43x/L44x",
    aliases: ["l432", "l431", "l433", "l442", "l443", "l432kc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20003100, 0x2000c000),
    bootloader: { ...l4.bootloader, i2c: L43X_I2C, id: bid(0x91, 0x1fff6ffe) },
    sources: sources("STM32L43xxx/44xxx devices bootloader", L4_RM),
  },
  {
    ...l4,
    pid: 0x462,
    name: "STM32L45x/L46x",
    aliases: ["l452", "l451", "l462", "l452re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20003100, 0x20020000),
    // I2C address 0x4A from a user's session on an L452 (i2c-sources.ts); version not given.
    bootloader: { usartVersion: 0x31, i2cAddress: 0x4a, i2c: L45X_I2C, id: bid(0x92, 0x1fff6ffe) },
    sources: sources(
      "STM32L45xxx/46xxx devices bootloader",
      L4_RM,
      "I2C address 0x4A from a write-up on the L452, not from the AN2606 text",
    ),
  },
  {
    ...l4,
    pid: 0x415,
    name: "STM32L47x/L48x",
    aliases: ["l476", "l475", "l471", "l486", "l476rg", "l475vg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003100, 0x20018000),
    optionBytes: L47_OPTION_BYTES,
    optionBytes2: L47_OPTION_BYTES_2,
    dualBank: true,
    bootloader: { ...l4.bootloader, id: bid(0x92, 0x1fff6ffe) },
    sources: sources(
      "STM32L47xxx/48xxx devices bootloader",
      L47_RM,
      "older revisions report bootloader ID 0xA3",
    ),
  },
  {
    ...l4,
    pid: 0x461,
    name: "STM32L496/L4A6",
    aliases: ["l496", "l4a6", "l496zg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003100, 0x20040000),
    optionBytes: L47_OPTION_BYTES,
    optionBytes2: L47_OPTION_BYTES_2,
    dualBank: true,
    bootloader: { ...l4.bootloader, id: bid(0x93, 0x1fff6ffe) },
    sources: sources("STM32L496xx/4A6xx devices bootloader", L47_RM),
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
    optionBytes: L4P_OPTION_BYTES,
    optionBytes2: L4P_OPTION_BYTES_2,
    erase: pages(4 * KiB),
    dualBank: true,
    bankMode: L4P_BANK_MODE,
    bootloader: { ...l4.bootloader, id: bid(0x95, 0x1fff6ffe) },
    sources: sources(
      "STM32L4Rxx/4Sxx devices bootloader",
      L4P_RM,
      "option-byte addresses 0x1FF00000/0x1FF01000 recalled from RM0432, to be confirmed against its text",
    ),
  },
  {
    ...l4,
    pid: 0x471,
    name: "STM32L4P5/L4Q5",
    aliases: ["l4p5", "l4q5", "l4p5zg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20004000, 0x20050000),
    optionBytes: L4P_OPTION_BYTES,
    optionBytes2: L4P_OPTION_BYTES_2,
    erase: pages(4 * KiB),
    dualBank: true,
    bankMode: L4P_BANK_MODE,
    bootloader: { ...l4.bootloader, id: bid(0x90, 0x1fff6ffe) },
    sources: sources("STM32L4P5xx/Q5xx devices bootloader", L4P_RM),
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
    reprogram: "zero-allowed",
    massErase: true,
    maxUnitsPerErase: 511,
    dualBank: true,
    // Option bytes are registers on L5: the bootloader cannot read DBANK, so the factory default
    // (dual bank) stands unless the user says otherwise.
    bankMode: {
      bit: "DBANK (FLASH_OPTR bit 22; register, not readable through the bootloader)",
      whenSet: { erase: pages(2 * KiB), dualBank: true },
      whenClear: { erase: pages(4 * KiB), dualBank: false },
      source: "RM0438 §6.3.1 (Flash memory organization)",
    },
    timing: L5_U5_H5_TIMING,
    bootloader: { usartVersion: 0x31, id: bid(0x92, 0x0bf97ffe) },
    sources: sources("STM32L552xx/562xx devices bootloader", L5_RM),
  },
];
