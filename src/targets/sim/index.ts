/**
 * Simulated STM32 modules (design decision 2): a ROM bootloader speaking AN3155 over an in-process
 * USART line or a pseudo-terminal, with flash, protection, pins, an application hook and faults.
 *
 * ```ts
 * const sim = createSimulatedModule({ device: "g071" });
 * const port = sim.openUsart(); // a StreamTransport for the link layer
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
export { stm32Crc } from "./crc.js";
export { byteTimeMs, BITS_PER_BYTE } from "./wire.js";
export { StatsFileWriter } from "./stats-file.js";
