/**
 * STM32G0, STM32G4 and STM32C0 (docs/protocol.md §4.1): 2 KiB pages, 64-bit double-word
 * programming, option bytes at 1FFF7800, system memory at 1FFF0000.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, V33_WITH_GET_CHECKSUM, bid, flashOf, optionBytes, pages, sources, span } from "./layout.js";
import { G0_C0_TIMING, L4_G4_WB_WL_TIMING } from "./timing.js";
import { G03X_I2C, G07X_I2C, G0B1_I2C, G491_I2C } from "./i2c-sources.js";

/** RM0444 (G0), RM0440 (G4), RM0490 (C0) §3.3.x "Flash program and erase operations": PROGERR unless the double word is erased or all zero. */
const G0_RM = "RM0444 §3.3 (FLASH functional description: program and erase)";
const G4_RM = "RM0440 §3.3 (FLASH functional description: program and erase)";
const C0_RM = "RM0490 §3.3 (FLASH functional description: program and erase)";
/** SRAM sizes per part (SRAM_SIZE_MAX in ST's CMSIS headers stm32c0xxxx.h, STMicroelectronics/x-cube-freertos @ b0f4a6681bd37b483076db2e8171239db9dacbb1). */
const C0_SRAM =
  "SRAM size from the CMSIS header's SRAM_SIZE_MAX (STMicroelectronics/x-cube-freertos @ b0f4a6681bd37b483076db2e8171239db9dacbb1)";

const common = {
  erase: pages(2 * KiB),
  unitsPerWrpSector: 1,
  flashWord: 8,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  reprogram: "zero-allowed",
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
    // I2C1 0x56 and I2C protocol v1.2, as an ST employee quotes AN2606 and a user measured (i2c-sources.ts).
    bootloader: {
      ...g0.bootloader,
      i2cVersion: 0x12,
      i2cAddress: 0x56,
      i2c: G03X_I2C,
      id: bid(0x53, 0x1fff1ffe),
    },
    sources: sources("STM32G03xxx/04xxx devices bootloader", G0_RM),
  },
  {
    ...g0,
    pid: 0x460,
    name: "STM32G07x/G08x",
    aliases: ["g071", "g070", "g081", "g071rb", "g071kb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20002700, 0x20009000),
    systemMemory: span(0x1fff0000, 0x1fff7000),
    // Address 0x51 from the Linux ucsi_stm32g0 driver, confirmed by ST (i2c-sources.ts); I2C v1.2.
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x12,
      i2cAddress: 0x51,
      i2c: G07X_I2C,
      id: bid(0xb3, 0x1fff6ffe),
    },
    sources: sources("STM32G07xxx/08xxx devices bootloader", G0_RM),
  },
  {
    ...g0,
    pid: 0x467,
    name: "STM32G0B0/B1/C1",
    aliases: ["g0b1", "g0b0", "g0c1", "g0b1re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20020000),
    systemMemory: span(0x1fff0000, 0x1fff7000),
    // AN2606 (G0B0/B1/C1 chapter): system memory is split in two areas, the second one holding the
    // bootloader ID at 0x1FFF9FFE (hosts that read it, such as stm32loader, fail without it).
    systemMemory2: span(0x1fff8000, 0x1ffff000),
    dualBank: true,
    // I2C1 (PB6/PB7) or I2C2 (PB10/PB11), both at 0x5D (i2c-sources.ts).
    bootloader: {
      usartVersion: V33_WITH_GET_CHECKSUM,
      i2cAddress: 0x5d,
      i2c: G0B1_I2C,
      id: bid(0x92, 0x1fff9ffe),
    },
    sources: sources(
      "STM32G0B1xx/0C1xx devices bootloader",
      G0_RM,
      "G0B0 reports bootloader ID 0xD0; protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
  },
  {
    ...g0,
    pid: 0x456,
    name: "STM32G05x/G061",
    aliases: ["g051", "g050", "g061", "g051k8"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20004800),
    systemMemory: span(0x1fff0000, 0x1fff2000),
    bootloader: { ...g0.bootloader, id: bid(0x51, 0x1fff1ffe) },
    sources: sources("STM32G05xxx/061xx devices bootloader", G0_RM),
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
    bootloader: { ...g4.bootloader, id: bid(0xd4, 0x1fff6ffe) },
    sources: sources("STM32G431xx/441xx devices bootloader", G4_RM),
  },
  {
    ...g4,
    pid: 0x469,
    name: "STM32G47x/G48x",
    aliases: ["g474", "g473", "g471", "g483", "g484", "g474re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20018000),
    // 2 KiB pages in dual-bank mode (DBANK=1, the factory default); single-bank mode has 4 KiB pages.
    bankMode: {
      bit: "DBANK (FLASH_OPTR bit 22, option word at 0x1FFF7800)",
      probe: { address: 0x1fff7800, mask: 1 << 22 },
      whenSet: { erase: pages(2 * KiB), dualBank: true },
      whenClear: { erase: pages(4 * KiB), dualBank: false },
      source:
        "RM0440 §3.3.1 (Flash memory organization: dual bank 2 × 128 pages of 2 KiB, single bank 128 pages of 4 KiB)",
    },
    dualBank: true,
    bootloader: { ...g4.bootloader, id: bid(0xd5, 0x1fff6ffe) },
    sources: sources("STM32G47xxx/48xxx devices bootloader", G4_RM),
  },
  {
    ...g4,
    pid: 0x479,
    name: "STM32G491/G4A1",
    aliases: ["g491", "g4a1", "g491re"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x2001c000),
    bootloader: { ...g4.bootloader, i2cAddress: 0x5f, i2c: G491_I2C, id: bid(0xd2, 0x1fff6ffe) },
    sources: sources("STM32G491xx/4A1xx devices bootloader", G4_RM),
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
    bootloader: { ...c0.bootloader, id: bid(0x51, 0x1fff17fe) },
    sources: sources(
      "STM32C011xx devices bootloader",
      C0_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
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
    bootloader: { ...c0.bootloader, id: bid(0x52, 0x1fff17fe) },
    sources: sources(
      "STM32C031xx devices bootloader",
      C0_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
  },
  {
    ...c0,
    pid: 0x44c,
    name: "STM32C051",
    aliases: ["c051", "c051c8", "c051k8"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20003000),
    sources: sources(
      "STM32C051 devices bootloader",
      C0_RM,
      `RAM window start assumed like the C011 row (4 KiB for the bootloader), its end is the 12 KiB ${C0_SRAM}; bootloader ID not in our sources`,
    ),
  },
  {
    ...c0,
    pid: 0x493,
    name: "STM32C071",
    aliases: ["c071", "c071rb", "c071kb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20001000, 0x20006000),
    sources: sources(
      "STM32C071 devices bootloader",
      C0_RM,
      `RAM window start assumed (4 KiB for the bootloader; the USB DFU ROM may reserve more), its end is the 24 KiB ${C0_SRAM}; bootloader ID not in our sources`,
    ),
  },
  {
    ...c0,
    pid: 0x44d,
    name: "STM32C091/C092",
    aliases: ["c091", "c092", "c092rc", "c091rc"],
    flash: flashOf(256 * KiB),
    // The C091 has 36 KiB of SRAM, the C092 30 KiB (CMSIS SRAM_SIZE_MAX); one PID covers both, so the
    // host window ends where the smaller one's SRAM does.
    ram: span(0x20001000, 0x20007800),
    sources: sources(
      "STM32C091/C092 devices bootloader",
      C0_RM,
      `RAM window start assumed (4 KiB for the bootloader), its end is the C092's 30 KiB ${C0_SRAM}; bootloader ID not in our sources`,
    ),
  },
];
