/** Small builders shared by the per-family device files: sizes, ranges and sector maps. */
import type { AddressRange, DeviceSources, EraseLayout } from "../device.js";

/**
 * Assumption, stated once for every part that uses it: the newest ROMs (G0B/G0C, C0, H5, U5) are
 * modelled with USART protocol v3.3, which adds Get Checksum (0xA1, §2.3.14). The reference does not
 * say which parts list 0xA1; these stand for "parts with the CRC command" so that the simulator and the
 * flasher exercise the CRC verification path. A real part's Get list always wins.
 */
export const V33_WITH_GET_CHECKSUM = 0x33;

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Main flash starts here on every part in the table. */
export const FLASH_START = 0x08000000;

/** Flash of `size` bytes at the usual start. */
export function flashOf(size: number): AddressRange {
  return { start: FLASH_START, end: FLASH_START + size };
}

/** A half-open range [start, end). */
export function span(start: number, end: number): AddressRange {
  return { start, end };
}

/**
 * Option bytes as the docs/protocol.md writes them, with an INCLUSIVE end (e.g. 1FFFF800–1FFFF80F),
 * turned into our half-open range.
 */
export function optionBytes(start: number, inclusiveEnd: number): AddressRange {
  return { start, end: inclusiveEnd + 1 };
}

export function pages(pageSize: number): EraseLayout {
  return { kind: "pages", pageSize };
}

/**
 * F2/F4 single-bank sector map (§4.2): sectors 0–3 are 16 KiB, sector 4 is 64 KiB, then 128 KiB
 * sectors up to `totalKiB`.
 */
export function f4Sectors(totalKiB: number): number[] {
  const sizes = [16, 16, 16, 16, 64].map((k) => k * KiB);
  while (sizes.reduce((a, b) => a + b, 0) < totalKiB * KiB) sizes.push(128 * KiB);
  return sizes;
}

/** F42x/F43x/F469 dual bank (2 MiB): the 1 MiB F4 map twice, sectors 0–11 then 12–23 (§4.2). */
export function f4DualBankSectors(): number[] {
  return [...f4Sectors(1024), ...f4Sectors(1024)];
}

/** A sector map of `count` equal sectors. */
export function uniformSectors(count: number, size: number): EraseLayout {
  return { kind: "sectors", sizes: Array.from({ length: count }, () => size) };
}

/** A sector map from explicit sizes (F7 maps). */
export function sectors(sizes: readonly number[]): EraseLayout {
  return { kind: "sectors", sizes };
}

/** AN2606's bootloader ID byte and its address (see DeviceInfo.bootloader.id). */
export function bid(value: number, address: number): { value: number; address: number } {
  return { value, address };
}

/**
 * A row's sources: the AN2606 chapter (its "device-dependent bootloader parameters" table and the
 * chapter of that line) and the reference manual with its flash chapter. Titles, not numbers, for
 * AN2606: its numbering moves with every revision (rev 69 at the time of writing).
 */
export function sources(an2606Chapter: string, rm: string, unverified?: string): DeviceSources {
  return {
    an2606: `AN2606 "${an2606Chapter}" and table "Bootloader device-dependent parameters"`,
    rm,
    ...(unverified ? { unverified } : {}),
  };
}
