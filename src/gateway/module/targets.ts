/**
 * The engine's seam to module hardware. The engine asks a TargetFactory for a module's serial line
 * (at the bootloader's or the application's settings) or, for an I2C module, for a transport to its
 * address on its I2C bus, and, for the `gpio` entry method, for its BOOT0/NRST lines. The default factory (default-targets.ts) opens real ports and runs libgpiod; tests
 * and the demo pass one backed by in-process simulated modules (sim-targets.ts). Entry methods, the
 * bootloader session and health checks are built on top, identical for both.
 */
import type { I2cTransport, StreamTransport } from "../../targets/index.js";
import type { ModuleConfig } from "../config/config.js";
import type { ResetLines } from "../../targets/index.js";

export type Parity = "even" | "none";

export interface SerialSettings {
  path: string;
  baud: number;
  parity: Parity;
}

/** An I2C module's bootloader: bus number, 7-bit address, adapter clock. */
export interface I2cSettings {
  bus: number;
  address: number;
  clockHz: number;
}

/** Why a line is opened: to talk to the ROM bootloader, or to the running application (app command, probe). */
export type LinePurpose = "bootloader" | "application";

export interface TargetFactory {
  /** Opens a module's serial line with these settings. The engine closes it when done. */
  openSerial(module: ModuleConfig, settings: SerialSettings, purpose: LinePurpose): Promise<StreamTransport>;
  /** A transport to an I2C module's bootloader (AN4221). Needed only when the configuration has I2C modules. */
  openI2c?(module: ModuleConfig, settings: I2cSettings): Promise<I2cTransport>;
  /** BOOT0/NRST of a module whose entry method is `gpio`. Called once per module; the engine closes it on stop. */
  resetLines(module: ModuleConfig): ResetLines;
}
