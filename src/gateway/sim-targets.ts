/**
 * A TargetFactory backed by in-process simulated modules, for tests and `subflash demo`: a module's
 * serial line is the simulator's USART host end (the same one for the bootloader and the application,
 * as on a real board), and its gpio BOOT0/NRST lines drive the simulator's pins. The engine cannot tell
 * it from real hardware.
 */
import type { SimulatedModule } from "../targets/sim/module.js";
import type { ModuleConfig } from "./config.js";
import type { PinLevels, ResetLines } from "./gpio-lines.js";
import type { TargetFactory } from "./targets.js";

export function createSimTargetFactory(modules: ReadonlyMap<string, SimulatedModule> | Record<string, SimulatedModule>): TargetFactory {
  const byId: ReadonlyMap<string, SimulatedModule> = modules instanceof Map ? modules : new Map(Object.entries(modules));
  const find = (module: ModuleConfig): SimulatedModule => {
    const sim = byId.get(module.id);
    if (!sim) throw new Error(`no simulated module for module "${module.id}"`);
    return sim;
  };
  return {
    openSerial: (module) => Promise.resolve(find(module).openUsart()),
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
