/**
 * Flash timing presets per family, from docs/protocol.md §5.1 (datasheet
 * orders of magnitude). The simulator delays its ACKs by these; the flasher sizes its timeouts from
 * the `max` values. Where §5.1 has no row for a family the preset says which one it borrows.
 */
import type { FlashTiming } from "../device.js";

/** F0/F1/F3: 16-bit programming ~40–70 µs, 1–2 KiB page erase 20–40 ms, mass erase 20–40 ms. */
export const F0_F1_F3_TIMING: FlashTiming = {
  programWordUs: { typ: 52, max: 70 },
  eraseUnit: { baseMs: { typ: 20, max: 40 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 30, max: 40 },
};

/**
 * F2/F4 at 2.7–3.6 V (x32 parallelism): 32-bit word ~16 µs typ (100 µs max); sectors 16 KiB ≈ 250 ms,
 * 64 KiB ≈ 550 ms, 128 KiB ≈ 1 s typical and twice that worst case; mass erase ~8 s typ, 16–32 s max.
 */
export const F2_F4_TIMING: FlashTiming = {
  programWordUs: { typ: 16, max: 100 },
  eraseUnit: { baseMs: { typ: 150, max: 300 }, perKiBMs: { typ: 6.25, max: 12.5 } },
  massEraseMs: { typ: 8_000, max: 32_000 },
};

/**
 * F7: §5.1 has no row; modelled like F4 (same flash technology and per-KiB cost), so a 256 KiB
 * sector costs ~1.75 s typ / 3.5 s max. Mass erase worst case kept at the F4 figure.
 */
export const F7_TIMING: FlashTiming = {
  programWordUs: { typ: 16, max: 100 },
  eraseUnit: { baseMs: { typ: 150, max: 300 }, perKiBMs: { typ: 6.25, max: 12.5 } },
  massEraseMs: { typ: 16_000, max: 32_000 },
};

/** G0 (and C0, same flash IP): 64-bit word ~85 µs typ / 125 max; 2 KiB page 22 ms typ / 40 max; mass 40.1 ms max (G071). */
export const G0_C0_TIMING: FlashTiming = {
  programWordUs: { typ: 85, max: 125 },
  eraseUnit: { baseMs: { typ: 22, max: 40 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 22, max: 41 },
};

/** L4/G4/WB/WL: 64-bit word ~82 µs (91 µs max); 2 KiB page 22 ms typ / 24.5 ms max (L496); mass ~22 ms per bank. */
export const L4_G4_WB_WL_TIMING: FlashTiming = {
  programWordUs: { typ: 82, max: 91 },
  eraseUnit: { baseMs: { typ: 22, max: 24.5 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 22, max: 25 },
};

/**
 * L0/L1: §5.1 has no row. Modelled per 32-bit word; a 128/256-byte page erase ~3.2 ms (the
 * datasheets' Tprog). No mass erase through the bootloader, so its time is zero.
 */
export const L0_L1_TIMING: FlashTiming = {
  programWordUs: { typ: 100, max: 200 },
  eraseUnit: { baseMs: { typ: 3.2, max: 3.6 }, perKiBMs: { typ: 0, max: 0 } },
  massEraseMs: { typ: 0, max: 0 },
};

/**
 * L5/U5/H5: §5.1 has no row (assumption, verify per part). 128-bit word modelled at ~120 µs; page or
 * sector erase (2–8 KiB) like the L4 family plus a small per-KiB cost; mass erase per bank ~25 ms typ.
 */
export const L5_U5_H5_TIMING: FlashTiming = {
  programWordUs: { typ: 120, max: 200 },
  eraseUnit: { baseMs: { typ: 20, max: 30 }, perKiBMs: { typ: 0.5, max: 1.5 } },
  massEraseMs: { typ: 25, max: 60 },
};

/** H7: 256-bit flash word; 128 KiB sector ~1–2 s typical, a few seconds worst case; mass erase several seconds per bank. */
export const H7_TIMING: FlashTiming = {
  programWordUs: { typ: 100, max: 200 },
  eraseUnit: { baseMs: { typ: 200, max: 500 }, perKiBMs: { typ: 12, max: 30 } },
  massEraseMs: { typ: 4_000, max: 16_000 },
};

/** The presets by name, for the simulator's options and for documentation. */
export const TIMING_PRESETS = {
  "f0-f1-f3": F0_F1_F3_TIMING,
  "f2-f4": F2_F4_TIMING,
  f7: F7_TIMING,
  "g0-c0": G0_C0_TIMING,
  "l4-g4-wb-wl": L4_G4_WB_WL_TIMING,
  "l0-l1": L0_L1_TIMING,
  "l5-u5-h5": L5_U5_H5_TIMING,
  h7: H7_TIMING,
} as const satisfies Record<string, FlashTiming>;
