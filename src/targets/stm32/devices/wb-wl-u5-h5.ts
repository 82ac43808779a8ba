/**
 * STM32WB and STM32WL (64-bit programming, L4-like flash) and the newer STM32U5 and STM32H5
 * (128-bit programming, 8 KiB pages or sectors, option bytes in registers, system memory in the
 * 0x0BFxxxxx region). Protocol reference §4.1; U5/H5 rows marked † there come from stm32loader.
 */
import type { DeviceInfo } from "../device.js";
import {
  KiB,
  MiB,
  V33_WITH_GET_CHECKSUM,
  bid,
  flashOf,
  optionBytes,
  pages,
  sources,
  span,
} from "./layout.js";
import { L4_G4_WB_WL_TIMING, L5_U5_H5_TIMING } from "./timing.js";

const WB_RM = "RM0434 (WB55), RM0473 (WB15) §3.3 (FLASH functional description; PROGERR)";
const WL_RM = "RM0453 §3.3 (FLASH functional description; PROGERR) and §3.4 (option bytes)";
const U5_RM = "RM0456 §7.3 (FLASH functional description: 8 KiB pages, quad-word programming, PROGERR)";
const H5_RM = "RM0492 (H503), RM0481 (H563/H573) §7.3 (FLASH functional description: 8 KiB sectors)";
/** ST's CMSIS device headers, read for SRAM sizes and flash geometry. */
const ST_CMSIS = "STMicroelectronics/x-cube-freertos @ b0f4a6681bd37b483076db2e8171239db9dacbb1";

const wbwl = {
  systemMemory: span(0x1fff0000, 0x1fff7000),
  unitsPerWrpSector: 1,
  flashWord: 8,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: L4_G4_WB_WL_TIMING,
  reprogram: "zero-allowed",
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
    bootloader: { ...wbwl.bootloader, id: bid(0xd5, 0x1fff6ffe) },
    sources: sources("STM32WB30xx/35xx/50xx/55xx devices bootloader", WB_RM),
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
    bootloader: { ...wbwl.bootloader, id: bid(0xb1, 0x1fff6ffe) },
    sources: sources("STM32WB10xx/15xx devices bootloader", WB_RM),
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
    // RM0453 (rev 5, "Option bytes organization" register map): the option words run from 1FFF7800 to
    // the C2OPT/SBRV word at 1FFF7878, so the block ends at 1FFF787F as on G0 and WB10/15; the map
    // also lists OPTVAL at 1FFF7FF8, which this block leaves out. stm32flash's inclusive end 1FFF8000
    // and stm32loader's 1FFF7FFF run past the block (to OPTVAL and beyond).
    optionBytes: optionBytes(0x1fff7800, 0x1fff787f),
    systemMemory: span(0x1fff0000, 0x1fff4000),
    erase: pages(2 * KiB),
    bootloader: { ...wbwl.bootloader, id: bid(0xc4, 0x1fff3efe) },
    sources: sources(
      "STM32WLE5xx/WL55xx devices bootloader",
      WL_RM,
      "option-byte end 0x1FFF787F read from RM0453 rev 5 p.114 as reproduced at easymanua.ls (stmicroelectronics/stm32wl5-series manual, p=114), not from ST's own copy; OPTVAL at 0x1FFF7FF8 is not modelled",
    ),
  },
];

const u5h5 = {
  unitsPerWrpSector: 1,
  flashWord: 16,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: true,
  timing: L5_U5_H5_TIMING,
  reprogram: "zero-allowed",
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
    bootloader: { ...u5h5.bootloader, id: bid(0x92, 0x0bf99efe) },
    sources: sources(
      "STM32U575xx/585xx devices bootloader",
      U5_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
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
    bootloader: { ...u5h5.bootloader, id: bid(0x91, 0x0bf99efe) },
    sources: sources(
      "STM32U535xx/545xx devices bootloader",
      U5_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
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
    bootloader: { ...u5h5.bootloader, id: bid(0x92, 0x0bf99efe) },
    sources: sources(
      "STM32U595xx/599xx/5A5xx/5A9xx devices bootloader",
      U5_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
  },
  {
    ...u5h5,
    family: "U5",
    pid: 0x476,
    name: "STM32U5F7/U5F9/U5G7/U5G9",
    aliases: ["u5f7", "u5f9", "u5g7", "u5g9", "u5g9zj"],
    // RM0456: 4 MiB in 2 banks of 8 KiB pages. SRAM1, 2, 3, 5 and 6 follow each other from 0x20000000
    // to 0x202F0000 (CMSIS stm32u5g9xx.h: 768 + 64 + 832 + 832 + 512 KiB); the host window ends there.
    flash: flashOf(4 * MiB),
    ram: span(0x20004000, 0x202f0000),
    systemMemory: span(0x0bf90000, 0x0bfa0000),
    erase: pages(8 * KiB),
    sources: sources(
      "STM32U5F7xx/5F9xx/5G7xx/5G9xx devices bootloader",
      U5_RM,
      `RAM window start and system memory assumed like the other U5 lines (the SRAM map is CMSIS's, ${ST_CMSIS}); bootloader ID not in our sources`,
    ),
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
    // ECC on every 128-bit flash word: programmed once per erase (RM0481/RM0492 §7.3.x).
    reprogram: "refused",
    erase: pages(8 * KiB),
    bootloader: { ...u5h5.bootloader, id: bid(0xe1, 0x0bf8fffe) },
    sources: sources(
      "STM32H503xx devices bootloader",
      H5_RM,
      "protocol v3.3 with Get Checksum is an assumption (layout.ts)",
    ),
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
    // ECC on every 128-bit flash word: programmed once per erase (RM0481/RM0492 §7.3.x).
    reprogram: "refused",
    erase: pages(8 * KiB),
    bootloader: { ...u5h5.bootloader, id: bid(0xe3, 0x0bf9fafe) },
    sources: sources(
      "STM32H563xx/573xx devices bootloader",
      H5_RM,
      `RAM start assumed (see the comment), its end is the 640 KiB of SRAM in CMSIS stm32h573xx.h (${ST_CMSIS}); protocol v3.3 is an assumption`,
    ),
  },
  {
    ...u5h5,
    family: "H5",
    pid: 0x478,
    name: "STM32H523/H533",
    aliases: ["h523", "h533", "h523ce", "h533re"],
    // RM0481: 512 KiB in 2 banks of 32 sectors of 8 KiB; 272 KiB of contiguous SRAM.
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20044000),
    systemMemory: span(0x0bf97000, 0x0bfa0000),
    reprogram: "refused",
    erase: pages(8 * KiB),
    sources: sources(
      "STM32H523xx/533xx devices bootloader",
      H5_RM,
      `system memory assumed like the H563's; 512 KiB of 8 KiB sectors and 272 KiB of SRAM (128 + 80 + 64) confirmed from CMSIS stm32h533xx.h (${ST_CMSIS}); bootloader ID not in our sources`,
    ),
  },
];
