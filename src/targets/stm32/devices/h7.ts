/**
 * STM32H7 (docs/protocol.md §4.1): 128 KiB sectors (8 KiB on H7A3/B3), 256-bit flash words
 * (128-bit on H7A3/B3), option bytes in registers rather than memory mapped.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, flashOf, span, uniformSectors } from "./layout.js";
import { H7_TIMING } from "./timing.js";

const h7 = {
  family: "H7",
  ram: span(0x20004100, 0x20020000),
  unitsPerWrpSector: 1,
  flashWord: 32,
  massErase: true,
  maxUnitsPerErase: 511,
  timing: H7_TIMING,
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
  },
];
