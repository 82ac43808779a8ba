/**
 * Simulated STM32 modules (design decision 2): a ROM bootloader speaking AN3155 over an in-process
 * USART line or a pseudo-terminal, and AN4221 on an in-process I2C bus, with flash, protection,
 * pins, an application hook and faults.
 *
 * ```ts
 * const sim = createSimulatedModule({ device: "g071" });
 * const port = sim.openUsart(); // a StreamTransport for the link layer
 * const bus = createSimI2cBus(); // or over I2C (docs/i2c.md)
 * bus.attach(sim); // at its AN2606 address, 0x51
 * const i2c = bus.openTransport(0x51); // an I2cTransport
 * ```
 */
import { SimulatedModule } from "./module.js";
import type { SimOptions } from "./types.js";

export function createSimulatedModule(options: SimOptions): SimulatedModule {
  return new SimulatedModule(options);
}

export { SimulatedModule, type SimEvents, type SimStream } from "./module.js";
export type {
  LineWire,
  SerialLineName,
  SimAppContext,
  SimAppFactory,
  SimApplication,
  SimInitialFlash,
  SimMemoryReader,
  SimOptions,
  SimState,
  SimStats,
  SimWiring,
} from "./types.js";
export { DEFAULT_WIRING } from "./types.js";
export type { ActiveFault, FaultDirection, SimFault } from "./faults.js";
export { SimError, type SimErrorCode } from "./errors.js";
export { SimMemory, type MemoryArea, type AreaKind } from "./memory.js";
export { SimHostEnd } from "./host-end.js";
export { BootloaderCore, type CoreConfig, type CoreExit, type CoreHooks, type CoreSession } from "./core.js";
export { ACK, NACK, BUSY, SYNC, Op, defaultCommands } from "./opcodes.js";
export { byteTimeMs, BITS_PER_BYTE } from "./wire.js";
export { StatsFileWriter } from "./stats-file.js";
export {
  createSimI2cBus,
  SimI2cBus,
  type ActiveI2cFault,
  type SimI2cBusOptions,
  type SimI2cBusStats,
  type SimI2cFault,
} from "./i2c-bus.js";
export type { I2cReadOutcome, SimI2cEndpoint } from "./i2c-front-end.js";
export { DEFAULT_I2C_VERSION, defaultI2cCommands } from "./i2c-opcodes.js";
