/**
 * STM32H7 (docs/protocol.md §4.1): 128 KiB sectors (8 KiB on H7A3/B3), 256-bit flash words
 * (128-bit on H7A3/B3), option bytes in registers rather than memory mapped.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, bid, flashOf, sources, span, uniformSectors } from "./layout.js";
import { H7_TIMING } from "./timing.js";
import { H74X_I2C, H7A3_I2C } from "./i2c-sources.js";

/** RM0433/RM0468/RM0455: 256-bit (128-bit on H7A3/B3) flash words with ECC: a word is programmed once per erase. */
const H74_RM = "RM0433 §4.3 (FLASH functional description: organization, programming)";
const H72_RM = "RM0468 §4.3 (FLASH functional description: organization, programming)";
const H7A_RM = "RM0455 §4.3 (FLASH functional description: 2 banks × 128 sectors of 8 KiB)";

const h7 = {
  family: "H7",
  ram: span(0x20004100, 0x20020000),
  unitsPerWrpSector: 1,
  flashWord: 32,
  massErase: true,
  maxUnitsPerErase: 511,
  timing: H7_TIMING,
  reprogram: "refused",
  bootloader: { usartVersion: 0x31 },
} as const;

export const H7_DEVICES: readonly DeviceInfo[] = [
  {
    ...h7,
    pid: 0x450,
    name: "STM32H74x/H75x",
    aliases: ["h743", "h753", "h750", "h742", "h743zi", "h747", "h757"],
    flash: flashOf(2 * MiB),
    systemMemory: span(0x1ff00000, 0x1ff1e800),
    // 2 banks × 8 sectors of 128 KiB.
    erase: uniformSectors(16, 128 * KiB),
    dualBank: true,
    // I2C at 0x4E (AN2606 "0b1001110x" as users quote it; i2c-sources.ts), e.g. on PF1/PF0.
    bootloader: { ...h7.bootloader, i2cAddress: 0x4e, i2c: H74X_I2C, id: bid(0x91, 0x1ff1e7fe) },
    sources: sources("STM32H74xxx/75xxx devices bootloader", H74_RM),
  },
  {
    ...h7,
    pid: 0x483,
    name: "STM32H72x/H73x",
    aliases: ["h723", "h725", "h730", "h733", "h735", "h723zg"],
    // stm32flash's table has the start as 0x80000000, a typo (§4.1 caveats): flash is at 0x08000000.
    flash: flashOf(1 * MiB),
    systemMemory: span(0x1ff00000, 0x1ff1e800),
    erase: uniformSectors(8, 128 * KiB),
    dualBank: false,
    bootloader: { ...h7.bootloader, id: bid(0x93, 0x1ff1e7fe) },
    sources: sources("STM32H72xxx/73xxx devices bootloader", H72_RM),
  },
  {
    ...h7,
    pid: 0x480,
    name: "STM32H7A3/H7B3",
    aliases: ["h7a3", "h7b3", "h7b0", "h7a3zi"],
    // stm32flash stops at 1 MiB although the line goes up to 2 MiB (§4.1 caveats); like the other
    // rows this one describes the largest member: 2 banks × 128 sectors of 8 KiB (RM0455).
    flash: flashOf(2 * MiB),
    systemMemory: span(0x1ff00000, 0x1ff14000),
    erase: uniformSectors(256, 8 * KiB),
    // RM0455: the H7A3/B3 flash word is 128 bits, not the 256 bits of the other H7 lines.
    flashWord: 16,
    dualBank: true,
    // I2C1 0x57 (SCL PB6, SDA PB9); AN2606 prints the address with one bit too many (i2c-sources.ts).
    bootloader: { ...h7.bootloader, i2cAddress: 0x57, i2c: H7A3_I2C, id: bid(0x92, 0x1ff13ffe) },
    sources: sources("STM32H7A3xx/B3xx devices bootloader", H7A_RM),
  },
  {
    ...h7,
    pid: 0x485,
    name: "STM32H7R3/R7/S3/S7",
    aliases: ["h7r3", "h7r7", "h7s3", "h7s7", "h7s3l8"],
    // RM0477: 64 KiB of boot flash in 8 sectors of 8 KiB, 128-bit flash words with ECC; the
    // application normally runs from external memory.
    flash: flashOf(64 * KiB),
    systemMemory: span(0x1ff00000, 0x1ff10000),
    erase: uniformSectors(8, 8 * KiB),
    flashWord: 16,
    dualBank: false,
    sources: sources(
      "STM32H7Rxx/7Sxx devices bootloader",
      "RM0477 §5.3 (FLASH functional description)",
      "system-memory range and RAM window assumed; bootloader ID not in our sources",
    ),
  },
];
