/**
 * The device table: product ID → memory map, erase layout, flash word, program rule, timings and
 * bootloader identity. Every row cites its sources (AN2606 chapter, reference manual) in `sources`,
 * and says there which of its facts are not confirmed against the documents' text; corrections of
 * other tools' data are commented at the entry they concern and listed in
 * test/fixtures/peer-devices/known-differences.json. Each family's rows live in ./devices/*.ts; this file is the index.
 *
 * Conventions of every row: ranges are half-open [start, end); a row describes the largest member of
 * its line (a real part's Get ID gives the PID, not the flash size); `bootloader` holds defaults for
 * the simulator and for first contact, never a substitute for the part's Get reply.
 */
import type { DeviceInfo, Family } from "./device.js";
import { F0_DEVICES, F1_DEVICES } from "./devices/f0-f1.js";
import { F2_DEVICES, F4_DEVICES } from "./devices/f2-f4.js";
import { F3_DEVICES, F7_DEVICES } from "./devices/f3-f7.js";
import { C0_DEVICES, G0_DEVICES, G4_DEVICES } from "./devices/g0-g4-c0.js";
import { H7_DEVICES } from "./devices/h7.js";
import { L0_DEVICES, L1_DEVICES } from "./devices/l0-l1.js";
import { L4_DEVICES, L5_DEVICES } from "./devices/l4-l5.js";
import { H5_DEVICES, U5_DEVICES, WB_DEVICES, WL_DEVICES } from "./devices/wb-wl-u5-h5.js";
import { U0_DEVICES, U3_DEVICES, WBA_DEVICES } from "./devices/u0-u3-wba.js";
import { BootloaderError } from "./errors.js";

export { TIMING_PRESETS } from "./devices/timing.js";

export const DEVICES: readonly DeviceInfo[] = [
  ...F0_DEVICES,
  ...F1_DEVICES,
  ...F2_DEVICES,
  ...F3_DEVICES,
  ...F4_DEVICES,
  ...F7_DEVICES,
  ...G0_DEVICES,
  ...G4_DEVICES,
  ...H7_DEVICES,
  ...L0_DEVICES,
  ...L1_DEVICES,
  ...L4_DEVICES,
  ...L5_DEVICES,
  ...WB_DEVICES,
  ...WL_DEVICES,
  ...U5_DEVICES,
  ...C0_DEVICES,
  ...H5_DEVICES,
  ...U0_DEVICES,
  ...U3_DEVICES,
  ...WBA_DEVICES,
];

const byPid = new Map(DEVICES.map((d) => [d.pid, d]));
const byAlias = new Map(DEVICES.flatMap((d) => d.aliases.map((alias) => [alias, d] as const)));

/** The device with this product ID, or undefined. */
export function findDevice(pid: number): DeviceInfo | undefined {
  return byPid.get(pid);
}

/** The rows of one family, in table order. */
export function devicesOfFamily(family: Family): DeviceInfo[] {
  return DEVICES.filter((d) => d.family === family);
}

/**
 * Resolves a command-line device name: a product ID ("0x410", "1040") or a short part name ("f103",
 * "G071", "STM32F103C8"). Throws BootloaderError "unknown-device" listing what would have been accepted.
 */
export function resolveDevice(nameOrPid: string): DeviceInfo {
  const key = nameOrPid.trim().toLowerCase();
  const pid = /^0x[0-9a-f]+$/.test(key)
    ? Number.parseInt(key, 16)
    : /^\d+$/.test(key)
      ? Number(key)
      : undefined;
  const found =
    pid !== undefined ? byPid.get(pid) : (byAlias.get(key) ?? byAlias.get(key.replace(/^stm32/, "")));
  if (!found) {
    const names = DEVICES.map((d) => d.aliases[0]).join(", ");
    throw new BootloaderError(
      "unknown-device",
      `unknown device "${nameOrPid}": give a product ID such as 0x410 or a part name (${names})`,
      {
        device: nameOrPid,
      },
    );
  }
  return found;
}
