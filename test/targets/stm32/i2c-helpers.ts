/** Shared set-up for the I2C tests: simulated modules on an in-process I2C bus, and a fast I2C link. */
import {
  createSimI2cBus,
  createSimulatedModule,
  type SimI2cBus,
  type SimI2cBusOptions,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { I2cLink, type I2cLinkOptions } from "../../../src/targets/stm32/link-i2c.js";
import type { BootloaderError } from "../../../src/targets/stm32/errors.js";
import type { LinkIo } from "../../../src/targets/stm32/link.js";

/** With timing off replies are immediate: short budgets keep failure paths fast on a loaded machine. */
export const FAST_I2C_LINK: I2cLinkOptions = {
  timeouts: { latencyMs: 150 },
  resyncRounds: 4,
  reconnectPollMs: 1,
};

export interface I2cRig {
  bus: SimI2cBus;
  modules: SimulatedModule[];
  close(): Promise<void>;
}

/** One bus with the given modules attached at the given addresses. */
export function i2cRig(
  busOptions: SimI2cBusOptions,
  ...modules: Array<{ options: Partial<SimOptions> & { device: SimOptions["device"] }; address?: number }>
): I2cRig {
  const bus = createSimI2cBus({ adapterTimeoutMs: 100, ...busOptions });
  const sims = modules.map(({ options, address }) => {
    const module = createSimulatedModule({ timing: false, ...options });
    bus.attach(module, address);
    return module;
  });
  return {
    bus,
    modules: sims,
    async close() {
      bus.close();
      await Promise.all(sims.map((m) => m.close()));
    },
  };
}

/** An I2C link to `address`, identified as `module`'s part (for timeouts), with no session on top. */
export function rawI2cLink(
  bus: SimI2cBus,
  address: number,
  module?: SimulatedModule,
  options: I2cLinkOptions = {},
): I2cLink {
  const link = new I2cLink(bus.openTransport(address), { ...FAST_I2C_LINK, ...options });
  if (module) link.identify(module.device);
  return link;
}

export async function failure<T>(link: I2cLink, fn: (io: LinkIo) => Promise<T>): Promise<BootloaderError> {
  return (await link.exclusive(fn).then(
    () => {
      throw new Error("expected the exchange to fail");
    },
    (e: unknown) => e,
  )) as BootloaderError;
}
