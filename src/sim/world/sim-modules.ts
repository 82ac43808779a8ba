/**
 * Simulated modules for a gateway configuration: one SimulatedModule per configured module, with the
 * device, flash layout and entry method the configuration gives it, running the simulated module
 * firmware (A/B slot selector + an application that answers the health probe). Used by the demo,
 * the integration tests, the benchmark and `subflash daemon --simulate`. Modules configured on an
 * I2C bus sit on a simulated I2C bus (one per bus number) at their configured address; their
 * application still answers on the module's UART.
 *
 * With a flash file per module, the modules survive the gateway process: flash is written through
 * to the file, so a daemon killed mid-update finds its modules as it left them when it restarts
 * (the restart acts like a power cycle of the modules).
 */
import { existsSync } from "node:fs";
import type { GatewayConfig, ModuleConfig } from "../../gateway/index.js";
import { encodeBootRecord } from "../../targets/index.js";
import { createSimTargetFactory } from "./sim-targets.js";
import type { TargetFactory } from "../../gateway/index.js";
import { stm32Crc } from "../../signing/index.js";
import { createSimI2cBus, createSimulatedModule } from "../module/index.js";
import type { SimI2cBus, SimulatedModule } from "../module/index.js";
import { parseI2cBus } from "../../targets/index.js";
import { buildSimFirmware } from "../firmware/image-format.js";
import type { SimBehaviour } from "../firmware/image-format.js";
import { createModuleFirmware } from "../firmware/module-firmware.js";
import type { ModuleFirmware, SimFirmwareLayout } from "../firmware/module-firmware.js";
import type { Logger } from "../../util/logger.js";

export interface SimModuleOptions {
  /** Simulate wire time (11 bits per byte at `baud`) and flash erase/program times. Default true. */
  timing?: boolean;
  /** Default: the module's configured bootloader baud. */
  baud?: number;
  /** Keep flash in this file (created from the factory firmware when it does not exist). */
  flashFile?: string;
  /** Factory firmware in slot A (or the single slot), confirmed. Default version "1.0.0", 8 KiB. */
  factory?: { version: string; size?: number; behaviour?: SimBehaviour };
  /** USART bootloader version byte; 0x33 offers Get Checksum (device-side CRC). Default: the device table's. */
  bootloaderVersion?: number;
  /** New firmware of these versions never answers the health probe (fleet fault injection). */
  hangs?: (version: string) => boolean;
  logger?: Logger;
}

export interface SimModules {
  readonly sims: ReadonlyMap<string, SimulatedModule>;
  readonly firmware: ReadonlyMap<string, ModuleFirmware>;
  /** Simulated I2C buses by bus number (empty when no module is on I2C). */
  readonly i2cBuses: ReadonlyMap<number, SimI2cBus>;
  /** The engine's seam to them. */
  readonly targets: TargetFactory;
  /** The version a module's application reports right now (null: not running an application). */
  running(module: string): string | null;
  close(): Promise<void>;
}

export function createSimModules(
  config: GatewayConfig,
  options: (module: ModuleConfig) => SimModuleOptions = () => ({}),
): SimModules {
  const sims = new Map<string, SimulatedModule>();
  const firmware = new Map<string, ModuleFirmware>();
  const i2cBuses = new Map<number, SimI2cBus>();
  for (const module of config.modules) {
    const opts = options(module);
    const layout = firmwareLayout(module);
    const model = createModuleFirmware({ layout, ...(opts.hangs ? { hangs: opts.hangs } : {}) });
    const fresh = opts.flashFile === undefined || !existsSync(opts.flashFile);
    const sim = createSimulatedModule({
      device: typeof module.device === "number" ? `0x${module.device.toString(16)}` : module.device,
      timing: opts.timing ?? true,
      baud: opts.baud ?? module.transport.usart?.baud ?? applicationBaud(module),
      boot0: false,
      app: model.app,
      ...(fresh ? { initialFlash: factoryFlash(layout, opts.factory ?? { version: "1.0.0" }) } : {}),
      ...(opts.flashFile !== undefined ? { flashFile: opts.flashFile } : {}),
      ...(opts.bootloaderVersion !== undefined ? { bootloaderVersion: opts.bootloaderVersion } : {}),
      ...(opts.logger ? { logger: opts.logger.child({ sim: module.id }) } : {}),
    });
    // The selector's own flash writes (marking a trial boot used) go to the file at once, like flash would.
    model.attach((address, bytes) => {
      sim.memory.load(address, bytes);
      sim.flush();
    });
    sim.reset("application"); // a deployed board: powered, running its application
    const i2c = module.transport.i2c;
    if (i2c) {
      const number = parseI2cBus(i2c.bus);
      let bus = i2cBuses.get(number);
      if (!bus) {
        bus = createSimI2cBus({
          clockHz: i2c.clockHz,
          timing: opts.timing ?? true,
          name: `sim-i2c-${number}`,
        });
        i2cBuses.set(number, bus);
      }
      bus.attach(sim, i2c.address);
    }
    sims.set(module.id, sim);
    firmware.set(module.id, model);
  }
  return {
    sims,
    firmware,
    i2cBuses,
    targets: createSimTargetFactory(sims, i2cBuses),
    running: (id) => {
      const last = firmware.get(id)?.boots.at(-1);
      return sims.get(id)?.state === "application" && last?.outcome === "running" ? last.version : null;
    },
    close: async () => {
      for (const bus of i2cBuses.values()) bus.close();
      for (const sim of sims.values()) await sim.close();
    },
  };
}

/** The speed of an I2C module's application UART: its health probe's, else 115200. */
function applicationBaud(module: ModuleConfig): number {
  return module.health.kind === "uart-probe" ? module.health.baud : 115_200;
}

function firmwareLayout(module: ModuleConfig): SimFirmwareLayout {
  const l = module.layout;
  if (l.kind === "single") return { kind: "single", slot: { address: l.slot.address, size: l.slot.size } };
  return {
    kind: "ab",
    slotA: { address: l.slotA.address, size: l.slotA.size },
    slotB: { address: l.slotB.address, size: l.slotB.size },
    bootRecord: l.bootRecord.copies,
    ...(l.selector !== undefined ? { selector: l.selector } : {}),
  };
}

/** The factory image in slot A (or the single slot), with a confirmed boot record on A/B modules. */
function factoryFlash(
  layout: SimFirmwareLayout,
  factory: NonNullable<SimModuleOptions["factory"]>,
): Array<{ address: number; data: Uint8Array }> {
  const image = buildSimFirmware({
    version: factory.version,
    size: factory.size ?? 8192,
    behaviour: factory.behaviour ?? "healthy",
  });
  if (layout.kind === "single") return [{ address: layout.slot.address, data: image }];
  const record = encodeBootRecord({
    sequence: 1,
    trial: false,
    active: "a",
    activeAddress: layout.slotA.address,
    imageLength: image.length,
    imageCrc: stm32Crc(image),
    fallback: "b",
    fallbackAddress: layout.slotB.address,
  });
  return [
    { address: layout.slotA.address, data: image },
    { address: layout.bootRecord[0], data: record },
  ];
}
