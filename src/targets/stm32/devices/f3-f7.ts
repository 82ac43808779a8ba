/**
 * STM32F3 (2 KiB pages, 16-bit programming, like F1 but with protocol v3.1) and STM32F7 (sector maps
 * of 16/32/64/128/256 KiB, §4.2). Protocol reference §4.1.
 */
import type { DeviceInfo } from "../device.js";
import { KiB, MiB, bid, flashOf, optionBytes, pages, sectors, sources, span } from "./layout.js";
import { F0_F1_F3_TIMING, F7_TIMING } from "./timing.js";
import { F72X_I2C, i2cWithoutAddress } from "./i2c-sources.js";

/** RM0316/RM0313/RM0365/RM0366/RM0364 (flash chapter): PGERR unless erased or writing 0x0000. */
const F3_RM =
  "RM0316 §4.2 (Flash program and erase operations); RM0313 (F373), RM0365/RM0366 (F302/F301), RM0364 (F334)";
const F7_RM = "RM0431 (F72x), RM0385 (F74x), RM0410 (F76x) §3.3 (Flash memory organization)";

const f3 = {
  family: "F3",
  reprogram: "zero-allowed",
  optionBytes: optionBytes(0x1ffff800, 0x1ffff80f),
  systemMemory: span(0x1fffd800, 0x1ffff800),
  erase: pages(2 * KiB),
  unitsPerWrpSector: 2,
  flashWord: 2,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: F0_F1_F3_TIMING,
  // I2C bootloader v1.0 on F3 (AN4221); no public source we found gives the F3 slave addresses.
  bootloader: {
    usartVersion: 0x31,
    i2cVersion: 0x10,
    i2c: i2cWithoutAddress(
      "I2C bootloader v1.0 on F0, F3 and F4 up to F401xB/C (AN4221; stm32flash I2C.txt, glassboard-dev/stm32flash-code @ cae1bb8)",
    ),
  },
} as const;

export const F3_DEVICES: readonly DeviceInfo[] = [
  {
    ...f3,
    pid: 0x432,
    name: "STM32F373/F378",
    aliases: ["f373", "f378", "f373cc", "f373rc"],
    flash: flashOf(256 * KiB),
    ram: span(0x20001400, 0x20008000),
    bootloader: { ...f3.bootloader, id: bid(0x41, 0x1ffff7a6) },
    sources: sources("STM32F373xx devices bootloader", F3_RM, "F378 reports bootloader ID 0x50"),
  },
  {
    ...f3,
    pid: 0x422,
    name: "STM32F302xB/C, F303xB/C, F358",
    aliases: ["f303", "f303xc", "f303cc", "f303vc", "f303rc", "f303cb", "f302xc", "f302cb", "f358"],
    flash: flashOf(256 * KiB),
    ram: span(0x20001400, 0x2000a000),
    bootloader: { ...f3.bootloader, id: bid(0x41, 0x1ffff796) },
    sources: sources("STM32F302xB(C)/303xB(C) devices bootloader", F3_RM, "F358 reports bootloader ID 0x50"),
  },
  {
    ...f3,
    pid: 0x439,
    name: "STM32F301xx/F302x4/6/8, F318",
    aliases: ["f301", "f302x8", "f302k8", "f302r8", "f301k8", "f318"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001800, 0x20004000),
    bootloader: { ...f3.bootloader, id: bid(0x40, 0x1ffff796) },
    sources: sources("STM32F301xx/302x4(6/8) devices bootloader", F3_RM, "F318 reports bootloader ID 0x50"),
  },
  {
    ...f3,
    pid: 0x438,
    name: "STM32F303x4/6/8, F334, F328",
    aliases: ["f334", "f334r8", "f303x8", "f303k8", "f303k6", "f328"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001800, 0x20003000),
    bootloader: { ...f3.bootloader, id: bid(0x50, 0x1ffff796) },
    sources: sources("STM32F303x4(6/8)/334xx/328xx devices bootloader", F3_RM),
  },
  {
    ...f3,
    pid: 0x446,
    name: "STM32F302xD/E, F303xD/E, F398",
    aliases: ["f303xe", "f303re", "f303ve", "f303ze", "f302xe", "f398"],
    flash: flashOf(512 * KiB),
    ram: span(0x20001800, 0x20010000),
    bootloader: { ...f3.bootloader, id: bid(0x40, 0x1ffff796) },
    sources: sources("STM32F302xD(E)/303xD(E) devices bootloader", F3_RM, "F398 reports bootloader ID 0x50"),
  },
];

const f7 = {
  family: "F7",
  reprogram: "refused",
  optionBytes: optionBytes(0x1fff0000, 0x1fff001f),
  systemMemory: span(0x1ff00000, 0x1ff0edc0),
  unitsPerWrpSector: 1,
  flashWord: 4,
  massErase: true,
  maxUnitsPerErase: 511,
  dualBank: false,
  timing: F7_TIMING,
  bootloader: { usartVersion: 0x31 },
} as const;

const k = (...sizesKiB: number[]): number[] => sizesKiB.map((s) => s * KiB);

export const F7_DEVICES: readonly DeviceInfo[] = [
  {
    ...f7,
    pid: 0x452,
    name: "STM32F72x/F73x",
    aliases: ["f722", "f723", "f730", "f732", "f733", "f722ze"],
    flash: flashOf(512 * KiB),
    ram: span(0x20004000, 0x20040000),
    // Like F4 at 512 KiB: 4×16, 64, 3×128 (§4.2).
    erase: sectors(k(16, 16, 16, 16, 64, 128, 128, 128)),
    // I2C protocol v1.2 at 0x4D, as a user drove it on an F723 (i2c-sources.ts).
    bootloader: {
      ...f7.bootloader,
      i2cVersion: 0x12,
      i2cAddress: 0x4d,
      i2c: F72X_I2C,
      id: bid(0x90, 0x1ff0edbe),
    },
    sources: sources(
      "STM32F72xxx/73xxx devices bootloader",
      F7_RM,
      "I2C address 0x4D and protocol v1.2 from one user's F723, not from the AN2606 text",
    ),
  },
  {
    ...f7,
    pid: 0x449,
    name: "STM32F74x/F75x",
    aliases: ["f746", "f745", "f756", "f750", "f746zg", "f746ng"],
    flash: flashOf(1 * MiB),
    ram: span(0x20004000, 0x20050000),
    erase: sectors(k(32, 32, 32, 32, 128, 256, 256, 256)),
    bootloader: { ...f7.bootloader, id: bid(0x90, 0x1ff0edbe) },
    sources: sources(
      "STM32F74xxx/75xxx devices bootloader",
      F7_RM,
      "older revisions report bootloader ID 0x70",
    ),
  },
  {
    ...f7,
    pid: 0x451,
    name: "STM32F76x/F77x",
    aliases: ["f767", "f765", "f769", "f777", "f779", "f767zi"],
    flash: flashOf(2 * MiB),
    ram: span(0x20004000, 0x20080000),
    // Single-bank map (nDBANK set, the factory default); dual-bank mode uses 16/64/128 KiB sectors (§4.2).
    erase: sectors(k(32, 32, 32, 32, 128, 256, 256, 256, 256, 256, 256, 256)),
    bootloader: { ...f7.bootloader, id: bid(0x93, 0x1ff0edbe) },
    sources: sources("STM32F76xxx/77xxx devices bootloader", F7_RM),
  },
];
