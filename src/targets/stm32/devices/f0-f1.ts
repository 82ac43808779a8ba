/**
 * STM32F0 and STM32F1 (docs/protocol.md §4.1). Both program 16-bit half-words. F1 ROMs speak USART
 * protocol v2.2 with the one-byte legacy Erase (0x43), which numbers pages 0..255 and carries at most
 * 255 of them per command (§2.3.7); F0 ROMs speak v3.1 with Extended Erase (0x44).
 */
import type { DeviceInfo } from "../device.js";
import { KiB, bid, flashOf, optionBytes, pages, sources, span } from "./layout.js";
import { F0_F1_F3_TIMING } from "./timing.js";
import { F030XC_I2C, F04X_I2C, F07X_I2C } from "./i2c-sources.js";

/** F0 and F1 share the option-byte block 1FFFF800–1FFFF80F. */
const F0_F1_OPTION_BYTES = optionBytes(0x1ffff800, 0x1ffff80f);

/** RM0091/RM0360 "Flash program and erase operations": PGERR unless the half-word is erased or the new value is 0x0000. */
const F0_RM = "RM0091 §3.2 (Flash program and erase operations); RM0360 §3.2 for the value line";
/** RM0008 and its programming manual PM0075: PGERR unless the half-word is erased or the new value is 0x0000. */
const F1_RM = "RM0008 §3.3 (Embedded flash memory) and PM0075 §2.3.3 (Main Flash memory programming)";

const f0 = {
  family: "F0",
  optionBytes: F0_F1_OPTION_BYTES,
  reprogram: "zero-allowed",
  flashWord: 2,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: F0_F1_F3_TIMING,
} as const;

const f1 = {
  family: "F1",
  optionBytes: F0_F1_OPTION_BYTES,
  reprogram: "zero-allowed",
  flashWord: 2,
  massErase: true,
  maxUnitsPerErase: 255,
  dualBank: false,
  timing: F0_F1_F3_TIMING,
  // AN2606 lists bootloader ID 0x10 at 0x1FFFF7D6 for the value line; the older LD/MD/HD/CL ROMs
  // predate the ID scheme ("NA"), and the byte there is modelled with the same value.
  bootloader: { usartVersion: 0x22, id: { value: 0x10, address: 0x1ffff7d6 } },
} as const;

export const F0_DEVICES: readonly DeviceInfo[] = [
  {
    ...f0,
    pid: 0x444,
    name: "STM32F03xx4/6",
    aliases: ["f031", "f030x6", "f030f4", "f030k6", "f030c6", "f031k6", "f038"],
    flash: flashOf(32 * KiB),
    ram: span(0x20000800, 0x20001000),
    systemMemory: span(0x1fffec00, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    bootloader: { usartVersion: 0x31, id: bid(0x10, 0x1ffff7a6) },
    sources: sources("STM32F03xx4/6 devices bootloader", F0_RM),
  },
  {
    ...f0,
    pid: 0x440,
    name: "STM32F030x8/F05x",
    aliases: ["f030", "f030c8", "f030r8", "f051", "f051k8", "f058"],
    flash: flashOf(64 * KiB),
    ram: span(0x20000800, 0x20002000),
    systemMemory: span(0x1fffec00, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    bootloader: { usartVersion: 0x31, id: bid(0x21, 0x1ffff7a6) },
    sources: sources("STM32F05xxx and STM32F030x8 devices bootloader", F0_RM),
  },
  {
    ...f0,
    pid: 0x445,
    name: "STM32F04x/F070x6",
    aliases: ["f042", "f042k6", "f042f6", "f048", "f070x6", "f070f6", "f070c6"],
    flash: flashOf(32 * KiB),
    // AN2606 via stm32flash gives 0x20001800–0x20001800: the bootloader uses all 6 KiB of SRAM, so the
    // host gets an empty RAM window (no RAM-resident reset stub on this part).
    ram: span(0x20001800, 0x20001800),
    systemMemory: span(0x1fffc400, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    // I2C bootloader v1.0 on F0 (AN4221); address 0x3E as a vendor saw it with i2cdetect (i2c-sources.ts).
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x10,
      i2cAddress: 0x3e,
      i2c: F04X_I2C,
      id: bid(0xa1, 0x1ffff6a6),
    },
    sources: sources(
      "STM32F04xxx devices bootloader",
      F0_RM,
      "I2C address 0x3E from a vendor's post, not from the AN2606 text; F070x6 reports bootloader ID 0xA2",
    ),
  },
  {
    ...f0,
    pid: 0x448,
    name: "STM32F070xB/F071/F072",
    aliases: ["f072", "f072rb", "f072cb", "f071", "f070xb", "f070cb", "f070rb", "f078"],
    flash: flashOf(128 * KiB),
    ram: span(0x20001800, 0x20004000),
    systemMemory: span(0x1fffc800, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    // I2C v1.0 on F0 (AN4221); address 0x56 per a third-party script citing AN2606, with a
    // conflicting report of 0x3B (i2c-sources.ts): low confidence, check with `subflash scan --i2c <bus>`.
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x10,
      i2cAddress: 0x56,
      i2c: F07X_I2C,
      id: bid(0xa1, 0x1ffff6a6),
    },
    sources: sources(
      "STM32F071xx/072xx devices bootloader",
      F0_RM,
      "I2C address 0x56 from a third-party script, contradicted by one report of 0x3B; F070xB reports bootloader ID 0xA3",
    ),
  },
  {
    ...f0,
    pid: 0x442,
    name: "STM32F030xC/F09x",
    aliases: ["f091", "f091rc", "f098", "f030xc", "f030cc", "f030rc"],
    flash: flashOf(256 * KiB),
    // stm32loader swaps RAM and system memory for this PID (§4.1 caveats); these are stm32flash's.
    ram: span(0x20001800, 0x20008000),
    systemMemory: span(0x1fffd800, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    // I2C v1.0 on F0 (AN4221); address 0x41 from a vendor's flashing script for its F030CC board
    // (i2c-sources.ts): medium confidence, and not shown for the F09x members.
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x10,
      i2cAddress: 0x41,
      i2c: F030XC_I2C,
      id: bid(0x50, 0x1ffff796),
    },
    sources: sources(
      "STM32F09xxx devices bootloader",
      F0_RM,
      "F030xC reports bootloader ID 0x52; I2C address 0x41 from a vendor's script for an F030CC, not from the AN2606 text and not shown for F09x",
    ),
  },
];

export const F1_DEVICES: readonly DeviceInfo[] = [
  {
    ...f1,
    pid: 0x412,
    name: "STM32F10x low-density",
    aliases: ["f103x6", "f103c6", "f103r6", "f103t6", "f103x4", "f101x6", "f102x6", "f1-ld"],
    flash: flashOf(32 * KiB),
    ram: span(0x20000200, 0x20002800),
    systemMemory: span(0x1ffff000, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    sources: sources("STM32F10xxx devices bootloader", F1_RM),
  },
  {
    ...f1,
    pid: 0x410,
    name: "STM32F10x medium-density",
    aliases: ["f103", "f103c8", "f103rb", "f103cb", "f101", "f102", "f1-md"],
    flash: flashOf(128 * KiB),
    ram: span(0x20000200, 0x20005000),
    systemMemory: span(0x1ffff000, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    sources: sources("STM32F10xxx devices bootloader", F1_RM),
  },
  {
    ...f1,
    pid: 0x414,
    name: "STM32F10x high-density",
    aliases: ["f103xe", "f103rc", "f103re", "f103vc", "f103ve", "f103ze", "f101xe", "f1-hd"],
    flash: flashOf(512 * KiB),
    ram: span(0x20000200, 0x20010000),
    systemMemory: span(0x1ffff000, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    sources: sources("STM32F10xxx devices bootloader", F1_RM),
  },
  {
    ...f1,
    pid: 0x420,
    name: "STM32F100 medium-density value line",
    aliases: ["f100", "f100rb", "f100c8", "f100x8", "f1-vl"],
    flash: flashOf(128 * KiB),
    ram: span(0x20000200, 0x20002000),
    systemMemory: span(0x1ffff000, 0x1ffff800),
    erase: pages(1 * KiB),
    unitsPerWrpSector: 4,
    sources: sources("STM32F10xxx devices bootloader", F1_RM),
  },
  {
    ...f1,
    pid: 0x428,
    name: "STM32F100 high-density value line",
    aliases: ["f100xe", "f100re", "f100rc", "f100ve", "f1-vl-hd"],
    flash: flashOf(512 * KiB),
    ram: span(0x20000200, 0x20008000),
    systemMemory: span(0x1ffff000, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    sources: sources("STM32F10xxx devices bootloader", F1_RM),
  },
  {
    ...f1,
    pid: 0x430,
    name: "STM32F10x XL-density",
    aliases: ["f103xg", "f103rg", "f103vg", "f103zg", "f101xg", "f1-xl"],
    flash: flashOf(1024 * KiB),
    ram: span(0x20000800, 0x20018000),
    systemMemory: span(0x1fffe000, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    // Assumption: the XL line has 512 pages, which the one-byte page numbers of the legacy Erase
    // (0x43, §2.3.7) cannot address, so its ROM is modelled with protocol v3.0 and Extended Erase.
    // The Get reply of a real part decides; this default only shapes the simulator.
    // Physically two banks, but no bank mass-erase codes are documented for it: dualBank stays false.
    maxUnitsPerErase: 511,
    bootloader: { usartVersion: 0x30, id: bid(0x21, 0x1ffff7d6) },
    sources: sources(
      "STM32F10xxx XL-density devices bootloader",
      F1_RM,
      "protocol v3.0 with Extended Erase is an assumption of this table (see the comment); a real part's Get list decides",
    ),
  },
  {
    ...f1,
    pid: 0x418,
    name: "STM32F105/F107 connectivity line",
    aliases: ["f105", "f107", "f105rc", "f107vc", "f1-cl"],
    flash: flashOf(256 * KiB),
    ram: span(0x20001000, 0x20010000),
    systemMemory: span(0x1fffb000, 0x1ffff800),
    erase: pages(2 * KiB),
    unitsPerWrpSector: 2,
    sources: sources("STM32F105xx/107xx devices bootloader", F1_RM),
  },
];
