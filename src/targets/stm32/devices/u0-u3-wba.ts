/**
 * STM32U0 (G0-like flash: 2 KiB pages, 64-bit double words), STM32U3 and STM32WBA (U5-like flash:
 * 128-bit quad words, system memory in the 0x0BFxxxxx region, option bytes in registers). These
 * newest lines are in AN2606 but in neither stm32flash 0.7 nor most host tools; every row says which
 * of its facts are not confirmed against the documents' text.
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
import { G0_C0_TIMING, L5_U5_H5_TIMING } from "./timing.js";
import { U0_I2C } from "./i2c-sources.js";

const U0_RM = "RM0503 §3.3 (FLASH functional description: 2 KiB pages, double-word programming, PROGERR)";
const U3_RM = "RM0487 (FLASH chapter: organization and programming)";
/** ST's CMSIS device headers and HAL flash drivers, read for the facts they define. */
const ST_CMSIS = "STMicroelectronics/x-cube-freertos @ b0f4a6681bd37b483076db2e8171239db9dacbb1";
const WBA_RM = "RM0493 (WBA5x), RM0515 (WBA6x) (FLASH chapter: 8 KiB pages, quad-word programming)";

const u0 = {
  family: "U0",
  systemMemory: span(0x1fff0000, 0x1fff2000),
  optionBytes: optionBytes(0x1fff7800, 0x1fff787f),
  erase: pages(2 * KiB),
  unitsPerWrpSector: 1,
  flashWord: 8,
  reprogram: "zero-allowed",
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: G0_C0_TIMING,
} as const;

const quad = {
  unitsPerWrpSector: 1,
  flashWord: 16,
  reprogram: "zero-allowed",
  massErase: true,
  maxUnitsPerErase: 511,
  timing: L5_U5_H5_TIMING,
  bootloader: { usartVersion: V33_WITH_GET_CHECKSUM },
} as const;

export const U0_DEVICES: readonly DeviceInfo[] = [
  {
    ...u0,
    pid: 0x459,
    name: "STM32U031",
    aliases: ["u031", "u031k8", "u031c8", "u031r8"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20003000),
    // I2C address 0x6A from a third-party header (low confidence): check with `subflash scan --i2c <bus>`.
    bootloader: { usartVersion: 0x31, i2cVersion: 0x12, i2cAddress: 0x6a, i2c: U0_I2C },
    sources: sources(
      "STM32U031xx devices bootloader",
      U0_RM,
      `RAM window start and system-memory range assumed (G0-like; the package and flash-size registers sit at 0x1FFF3D00/0x1FFF3EA0 per CMSIS stm32u031xx.h, above the assumed range); SRAM 8+4 KiB, 2 KiB pages and double-word programming confirmed from CMSIS/HAL (${ST_CMSIS}); I2C address from a third-party header; bootloader ID not in our sources`,
    ),
  },
  {
    ...u0,
    pid: 0x489,
    name: "STM32U073/U083",
    aliases: ["u073", "u083", "u073rc", "u083rc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20001000, 0x2000a000),
    bootloader: { usartVersion: 0x31, i2cVersion: 0x12, i2cAddress: 0x6a, i2c: U0_I2C },
    sources: sources(
      "STM32U073xx/083xx devices bootloader",
      U0_RM,
      `RAM window start and system-memory range assumed (G0-like; the package and flash-size registers sit at 0x1FFF6D00/0x1FFF6EA0 per CMSIS stm32u073xx.h, so the system memory may be larger); SRAM 32+8 KiB, 2 KiB pages and double-word programming confirmed from CMSIS/HAL (${ST_CMSIS}); I2C address from a third-party header; bootloader ID not in our sources`,
    ),
  },
];

export const U3_DEVICES: readonly DeviceInfo[] = [
  {
    ...quad,
    family: "U3",
    pid: 0x454,
    name: "STM32U375/U385",
    aliases: ["u375", "u385", "u375rg", "u385rg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20004000, 0x20040000),
    // The system flash spans 0x0BF80000–0x0BFA0000 (OTP follows; CMSIS stm32u385xx.h); the bootloader's
    // part of it is assumed to be the upper 64 KiB, as on U5.
    systemMemory: span(0x0bf90000, 0x0bfa0000),
    // 4 KiB pages in two banks of half the flash, and 64-bit double-word programming (the HAL's only
    // program types are DOUBLEWORD and BURST of 16 double words), unlike the quad-word U5.
    erase: pages(4 * KiB),
    flashWord: 8,
    dualBank: true,
    sources: sources(
      "STM32U375xx/385xx devices bootloader",
      U3_RM,
      `4 KiB pages, two banks, double-word programming, 256 KiB SRAM (SRAM1 192 + SRAM2 64 KiB) and the system flash region confirmed from ST's CMSIS stm32u385xx.h and HAL stm32u3xx_hal_flash.h (${ST_CMSIS}), not from RM0487's text; the bootloader's RAM area and system-memory part assumed like U5; bootloader ID not in our sources`,
    ),
  },
];

export const WBA_DEVICES: readonly DeviceInfo[] = [
  {
    ...quad,
    family: "WBA",
    pid: 0x492,
    name: "STM32WBA52/54/55",
    aliases: ["wba52", "wba54", "wba55", "wba55cg", "wba52cg"],
    flash: flashOf(1 * MiB),
    // stm32loader gives 0x20000000–0x20002000, which would leave the bootloader no RAM; assumption:
    // the 16 KiB area of the other 0x0BFxxxxx parts, up to the end of the 128 KiB SRAM1.
    ram: span(0x20004000, 0x20020000),
    systemMemory: span(0x0bf88000, 0x0bf90000),
    erase: pages(8 * KiB),
    dualBank: false,
    bootloader: { usartVersion: V33_WITH_GET_CHECKSUM, id: bid(0xb0, 0x0bf8fefe) },
    sources: sources(
      "STM32WBA52xx/54xx/55xx devices bootloader",
      WBA_RM,
      `RAM window start assumed; its end (SRAM1 + SRAM2, 128 KiB) and the system memory 0x0BF88000–0x0BF90000 (OTP follows) confirmed from CMSIS stm32wba55xx.h (${ST_CMSIS}); protocol v3.3 with Get Checksum is an assumption (layout.ts)`,
    ),
  },
  {
    ...quad,
    family: "WBA",
    pid: 0x4b0,
    name: "STM32WBA62/63/64/65",
    aliases: ["wba62", "wba63", "wba64", "wba65", "wba65ri"],
    flash: flashOf(2 * MiB),
    ram: span(0x20004000, 0x20070000),
    systemMemory: span(0x0bf88000, 0x0bf90000),
    erase: pages(8 * KiB),
    dualBank: true,
    sources: sources(
      "STM32WBA6xxx devices bootloader",
      WBA_RM,
      "RAM window and system memory assumed like the WBA5x; bootloader ID not in our sources",
    ),
  },
];
