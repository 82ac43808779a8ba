/**
 * STM32F2 and STM32F4 (docs/protocol.md §4.1, sector maps §4.2). Erase units are sectors of
 * 16/64/128 KiB, numbered from 0 by Extended Erase; one sector is also the write-protection granule.
 * Programming is modelled with 32-bit words (x32 parallelism, 2.7–3.6 V).
 */
import type { DeviceInfo } from "../device.js";
import {
  KiB,
  MiB,
  bid,
  f4DualBankSectors,
  f4Sectors,
  flashOf,
  optionBytes,
  sectors,
  sources,
  span,
} from "./layout.js";
import { F2_F4_TIMING } from "./timing.js";
import { F401XDE_I2C, i2cWithoutAddress } from "./i2c-sources.js";

/** RM0033 (F2) / RM0090 (F4) "Programming": modelled as refusing any non-erased word (see ReprogramRule). */
const F2_RM = "RM0033 §2.3 (Embedded flash memory interface)";
const F4_RM = "RM0090 §3.3 (Embedded flash memory: organization) and §3.6 (Programming)";
const F4_RM_SMALL = "RM0368/RM0383/RM0401/RM0402/RM0430/RM0390 (flash chapter, sector organization)";

const F4_OPTION_BYTES = optionBytes(0x1fffc000, 0x1fffc00f);
/**
 * Dual-bank parts (F42x/F43x, F469) have a second option-byte block at 1FFEC000–1FFEC00F. §4.1 writes
 * both as one range, 1FFEC000–1FFFC00F, but that range would swallow the system memory at 1FFF0000;
 * DeviceInfo holds one range, so it is the bank-1 block (where RDP and WRP of bank 1 live).
 */
const F4_DUAL_BANK_OPTION_BYTES = F4_OPTION_BYTES;
/** RM0090 §3.7.1 (Description of user option bytes): bank 2's block (WRP of sectors 12–23). */
const F4_BANK2_OPTION_BYTES = optionBytes(0x1ffec000, 0x1ffec00f);
const F4_SYSTEM_MEMORY = span(0x1fff0000, 0x1fff7800);

const f4 = {
  family: "F4",
  reprogram: "refused",
  systemMemory: F4_SYSTEM_MEMORY,
  optionBytes: F4_OPTION_BYTES,
  unitsPerWrpSector: 1,
  flashWord: 4,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: F2_F4_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

export const F2_DEVICES: readonly DeviceInfo[] = [
  {
    ...f4,
    family: "F2",
    pid: 0x411,
    name: "STM32F2xx",
    aliases: ["f205", "f207", "f215", "f217", "f2"],
    flash: flashOf(1 * MiB),
    ram: span(0x20002000, 0x20020000),
    erase: sectors(f4Sectors(1024)),
    bootloader: { ...f4.bootloader, id: bid(0x33, 0x1fff77de) },
    sources: sources("STM32F2xxxx devices bootloader", F2_RM, "revision X parts report bootloader ID 0x20"),
  },
];

export const F4_DEVICES: readonly DeviceInfo[] = [
  {
    ...f4,
    pid: 0x413,
    name: "STM32F405/407/415/417",
    aliases: ["f407", "f405", "f415", "f417", "f407vg", "f405rg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003000, 0x20020000),
    erase: sectors(f4Sectors(1024)),
    // I2C bootloader v1.0 "on F0, F3 and F4 up to F401xB/C" (§3.5).
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x10,
      i2c: i2cWithoutAddress(
        "I2C bootloader v1.0 on F0, F3 and F4 up to F401xB/C (AN4221; stm32flash I2C.txt, glassboard-dev/stm32flash-code @ cae1bb8)",
      ),
      id: bid(0x91, 0x1fff77de),
    },
    sources: sources(
      "STM32F40xxx/41xxx devices bootloader",
      F4_RM,
      "older revisions report bootloader ID 0x31",
    ),
  },
  {
    ...f4,
    pid: 0x419,
    name: "STM32F427/429/437/439",
    aliases: ["f429", "f427", "f437", "f439", "f429zi"],
    flash: flashOf(2 * MiB),
    ram: span(0x20003000, 0x20030000),
    optionBytes2: F4_BANK2_OPTION_BYTES,
    optionBytes: F4_DUAL_BANK_OPTION_BYTES,
    erase: sectors(f4DualBankSectors()),
    dualBank: true,
    bootloader: { ...f4.bootloader, id: bid(0x91, 0x1fff76de) },
    sources: sources(
      "STM32F42xxx/43xxx devices bootloader",
      F4_RM,
      "older revisions report bootloader ID 0x70",
    ),
  },
  {
    ...f4,
    pid: 0x423,
    name: "STM32F401xB/C",
    aliases: ["f401", "f401xc", "f401cc", "f401cb", "f401rc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20003000, 0x20010000),
    erase: sectors(f4Sectors(256)),
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x10,
      i2c: i2cWithoutAddress(
        "I2C bootloader v1.0 on F0, F3 and F4 up to F401xB/C (AN4221; stm32flash I2C.txt, glassboard-dev/stm32flash-code @ cae1bb8); the F401xD/E ROM answers at 0x39 (i2c-sources.ts), which no source shows for this ROM",
      ),
      id: bid(0xd1, 0x1fff76de),
    },
    sources: sources("STM32F401xB(C) devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x433,
    name: "STM32F401xD/E",
    aliases: ["f401xe", "f401re", "f401ce", "f401cd"],
    flash: flashOf(512 * KiB),
    ram: span(0x20003000, 0x20018000),
    erase: sectors(f4Sectors(512)),
    // I2C1 (PB6/PB7) at 0x39, decoded from the ROM and answered on a bench part (i2c-sources.ts);
    // the protocol version was not reported.
    bootloader: { ...f4.bootloader, i2cAddress: 0x39, i2c: F401XDE_I2C, id: bid(0xd1, 0x1fff76de) },
    sources: sources(
      "STM32F401xD(E) devices bootloader",
      F4_RM_SMALL,
      "I2C address 0x39 from a boot-ROM analysis and bench test, not from the AN2606 text",
    ),
  },
  {
    ...f4,
    pid: 0x431,
    name: "STM32F411",
    aliases: ["f411", "f411ce", "f411re", "f411cc"],
    flash: flashOf(512 * KiB),
    ram: span(0x20003000, 0x20020000),
    erase: sectors(f4Sectors(512)),
    bootloader: { ...f4.bootloader, id: bid(0xd0, 0x1fff76de) },
    sources: sources("STM32F411xx devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x421,
    name: "STM32F446",
    aliases: ["f446", "f446re", "f446ze", "f446rc"],
    flash: flashOf(512 * KiB),
    ram: span(0x20003000, 0x20020000),
    erase: sectors(f4Sectors(512)),
    bootloader: { ...f4.bootloader, id: bid(0x90, 0x1fff76de) },
    sources: sources("STM32F446xx devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x458,
    name: "STM32F410",
    aliases: ["f410", "f410rb", "f410cb"],
    flash: flashOf(128 * KiB),
    ram: span(0x20003000, 0x20008000),
    erase: sectors(f4Sectors(128)),
    bootloader: { ...f4.bootloader, id: bid(0xb1, 0x1fff76de) },
    sources: sources("STM32F410xx devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x441,
    name: "STM32F412",
    aliases: ["f412", "f412zg", "f412rg", "f412cg"],
    flash: flashOf(1 * MiB),
    ram: span(0x20003000, 0x20040000),
    erase: sectors(f4Sectors(1024)),
    bootloader: { ...f4.bootloader, id: bid(0x90, 0x1fff76de) },
    sources: sources("STM32F412xx devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x463,
    name: "STM32F413/F423",
    aliases: ["f413", "f423", "f413zh", "f413rh"],
    flash: flashOf(1536 * KiB),
    ram: span(0x20003000, 0x20050000),
    erase: sectors(f4Sectors(1536)),
    bootloader: { ...f4.bootloader, id: bid(0x90, 0x1fff76de) },
    sources: sources("STM32F413xx/423xx devices bootloader", F4_RM_SMALL),
  },
  {
    ...f4,
    pid: 0x434,
    name: "STM32F469/F479",
    aliases: ["f469", "f479", "f469ni", "f469ii"],
    flash: flashOf(2 * MiB),
    ram: span(0x20003000, 0x20060000),
    optionBytes2: F4_BANK2_OPTION_BYTES,
    optionBytes: F4_DUAL_BANK_OPTION_BYTES,
    erase: sectors(f4DualBankSectors()),
    dualBank: true,
    bootloader: { ...f4.bootloader, id: bid(0x90, 0x1fff76de) },
    sources: sources(
      "STM32F469xx/479xx devices bootloader",
      "RM0386 §3.3 (Embedded flash memory: organization)",
    ),
  },
];
