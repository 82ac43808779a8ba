/**
 * A TargetFactory backed by in-process simulated modules, for tests and `subflash demo`: a module's
 * serial line is the simulator's USART host end (the same one for the bootloader and the application,
 * as on a real board), and its gpio BOOT0/NRST lines drive the simulator's pins. The engine cannot tell
 * it from real hardware. I2C modules sit on simulated I2C buses (`createSimI2cBus`, the module
 * attached at its configured address), given by bus number.
 */
import type { SimI2cBus } from "../module/i2c-bus.js";
import type { SimulatedModule } from "../module/module.js";
import type { ModuleConfig } from "../../gateway/index.js";
import type { PinLevels, ResetLines } from "../../targets/index.js";
import type { TargetFactory } from "../../gateway/index.js";

export function createSimTargetFactory(
  modules: ReadonlyMap<string, SimulatedModule> | Record<string, SimulatedModule>,
  i2cBuses: ReadonlyMap<number, SimI2cBus> = new Map(),
): TargetFactory {
  const byId: ReadonlyMap<string, SimulatedModule> =
    modules instanceof Map ? modules : new Map(Object.entries(modules));
  const find = (module: ModuleConfig): SimulatedModule => {
    const sim = byId.get(module.id);
    if (!sim) throw new Error(`no simulated module for module "${module.id}"`);
    return sim;
  };
  return {
    openSerial: (module) => Promise.resolve(find(module).openUsart()),
    openI2c: (module, settings) => {
      const bus = i2cBuses.get(settings.bus);
      if (!bus)
        return Promise.reject(new Error(`no simulated I2C bus ${settings.bus} for module "${module.id}"`));
      return Promise.resolve(bus.openTransport(settings.address));
    },
    resetLines: (module): ResetLines => ({
      set: (levels: PinLevels) => {
        const sim = find(module);
        // NRST "asserted" (reset held) is the pin low.
        sim.setPins({ boot0: levels.boot0, nrst: levels.reset === undefined ? undefined : !levels.reset });
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    }),
  };
}
