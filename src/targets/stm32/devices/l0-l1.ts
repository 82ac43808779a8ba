/**
 * STM32L0 and STM32L1 (docs/protocol.md §4.1): small pages (128 B on L0, 256 B on L1), 32-bit
 * word programming, and no mass erase through the bootloader: Extended Erase 0xFFFF is refused, so
 * hosts erase page lists, at most 511 pages (L0, "STM32L082 not more than 511") or 512 pages
 * (L1, "STM32L152 cannot erase more than 512") per command (§2.3.8).
 */
import type { DeviceInfo } from "../device.js";
import { KiB, bid, flashOf, optionBytes, pages, sources, span } from "./layout.js";
import { L0_L1_TIMING } from "./timing.js";
import { L07X_I2C } from "./i2c-sources.js";

/** RM0377/RM0367/RM0376 (L0), RM0038 (L1) "Flash program/erase": NOTZEROERR when the word is not erased. */
const L0_RM = "RM0377 §3.3 (Memory operations: program, NOTZEROERR); RM0367/RM0376 for the larger L0 lines";
const L1_RM = "RM0038 §3.3 (Memory operations: program)";

const common = {
  optionBytes: optionBytes(0x1ff80000, 0x1ff8001f),
  flashWord: 4,
  massErase: false,
  dualBank: false,
  timing: L0_L1_TIMING,
  reprogram: "refused",
} as const;

const l0 = {
  ...common,
  family: "L0",
  erase: pages(128),
  // 32 pages of 128 B = one 4 KiB write-protection sector.
  unitsPerWrpSector: 32,
  maxUnitsPerErase: 511,
  eraseListLimit: 511,
  bootloader: { usartVersion: 0x31 },
} as const;

const l1 = {
  ...common,
  family: "L1",
  erase: pages(256),
  // 16 pages of 256 B = one 4 KiB write-protection sector.
  unitsPerWrpSector: 16,
  maxUnitsPerErase: 512,
  eraseListLimit: 512,
  bootloader: { usartVersion: 0x31 },
} as const;

export const L0_DEVICES: readonly DeviceInfo[] = [
  {
    ...l0,
    pid: 0x457,
    name: "STM32L01x/L02x",
    aliases: ["l011", "l010", "l021", "l011k4"],
    flash: flashOf(16 * KiB),
    // As for F04x, the reference gives an empty window (0x20000800–0x20000800, "sic"): the bootloader
    // uses all 2 KiB of SRAM.
    ram: span(0x20000800, 0x20000800),
    systemMemory: span(0x1ff00000, 0x1ff01000),
    bootloader: { ...l0.bootloader, id: bid(0xc3, 0x1ff00ffe) },
    sources: sources("STM32L01xxx/02xxx devices bootloader", L0_RM),
  },
  {
    ...l0,
    pid: 0x425,
    name: "STM32L031/L041",
    aliases: ["l031", "l041", "l031k6"],
    flash: flashOf(32 * KiB),
    ram: span(0x20001000, 0x20002000),
    systemMemory: span(0x1ff00000, 0x1ff01000),
    bootloader: { ...l0.bootloader, id: bid(0xc0, 0x1ff00ffe) },
    sources: sources("STM32L031xx/041xx devices bootloader", L0_RM),
  },
  {
    ...l0,
    pid: 0x417,
    name: "STM32L05x/L06x",
    aliases: ["l053", "l052", "l051", "l062", "l063", "l053r8"],
    flash: flashOf(64 * KiB),
    ram: span(0x20001000, 0x20002000),
    systemMemory: span(0x1ff00000, 0x1ff01000),
    bootloader: { ...l0.bootloader, id: bid(0xc0, 0x1ff00ffe) },
    sources: sources("STM32L05xxx/06xxx devices bootloader", L0_RM),
  },
  {
    ...l0,
    pid: 0x447,
    name: "STM32L07x/L08x",
    aliases: ["l073", "l072", "l071", "l082", "l073rz", "l072cz"],
    flash: flashOf(192 * KiB),
    ram: span(0x20002000, 0x20005000),
    systemMemory: span(0x1ff00000, 0x1ff02000),
    bootloader: {
      usartVersion: 0x31,
      i2cVersion: 0x11,
      i2cAddress: 0x42,
      i2c: L07X_I2C,
      id: bid(0xb2, 0x1ff01ffe),
    },
    sources: sources(
      "STM32L07xxx/08xxx devices bootloader",
      L0_RM,
      "older revisions report bootloader ID 0x41",
    ),
  },
];

export const L1_DEVICES: readonly DeviceInfo[] = [
  {
    ...l1,
    pid: 0x416,
    name: "STM32L1 cat.1 (L1xx6/8/B)",
    aliases: ["l151", "l152", "l100", "l151xb", "l152xb", "l151cb", "l152rb", "l1-cat1"],
    flash: flashOf(128 * KiB),
    ram: span(0x20000800, 0x20004000),
    systemMemory: span(0x1ff00000, 0x1ff01000),
    bootloader: { ...l1.bootloader, id: bid(0x20, 0x1ff00ffe) },
    sources: sources("STM32L1xxx6(8/B) devices bootloader", L1_RM),
  },
  {
    ...l1,
    pid: 0x429,
    name: "STM32L1 cat.2 (L1xx6/8/B-A)",
    aliases: ["l151xb-a", "l152xb-a", "l100xb-a", "l151cba", "l152rba", "l1-cat2"],
    flash: flashOf(128 * KiB),
    ram: span(0x20001000, 0x20008000),
    systemMemory: span(0x1ff00000, 0x1ff01000),
    bootloader: { ...l1.bootloader, id: bid(0x20, 0x1ff00ffe) },
    sources: sources("STM32L1xxx6(8/B)A devices bootloader", L1_RM),
  },
  {
    ...l1,
    pid: 0x427,
    name: "STM32L1 cat.3 (L1xxC)",
    aliases: ["l151xc", "l152xc", "l162xc", "l151rc", "l152rc", "l100rc", "l1-cat3"],
    flash: flashOf(256 * KiB),
    ram: span(0x20001000, 0x20008000),
    systemMemory: span(0x1ff00000, 0x1ff02000),
    bootloader: { ...l1.bootloader, id: bid(0x40, 0x1ff01ffe) },
    sources: sources("STM32L1xxxC devices bootloader", L1_RM),
  },
  {
    ...l1,
    pid: 0x436,
    name: "STM32L1 cat.4 (L1xxD)",
    aliases: ["l151xd", "l152xd", "l162xd", "l151rd", "l152rd", "l1-cat4"],
    flash: flashOf(384 * KiB),
    ram: span(0x20001000, 0x2000c000),
    systemMemory: span(0x1ff00000, 0x1ff02000),
    bootloader: { ...l1.bootloader, id: bid(0x45, 0x1ff01ffe) },
    sources: sources("STM32L1xxxD devices bootloader", L1_RM),
  },
  {
    ...l1,
    pid: 0x437,
    name: "STM32L1 cat.5 (L1xxE)",
    aliases: ["l151xe", "l152xe", "l162xe", "l151re", "l152re", "l1-cat5"],
    flash: flashOf(512 * KiB),
    ram: span(0x20001000, 0x20014000),
    systemMemory: span(0x1ff00000, 0x1ff02000),
    bootloader: { ...l1.bootloader, id: bid(0x40, 0x1ff01ffe) },
    sources: sources("STM32L1xxxE devices bootloader", L1_RM),
  },
];
