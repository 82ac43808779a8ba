/**
 * subflash's public API. The CLI (src/cli) uses nothing that is not reachable from here or from
 * the simulator's entry point (`subflash/testing`).
 *
 * - targets: transports (USART on serialport, I2C on i2c-bus), the STM32 ROM bootloader stack
 *   (link → commands → session → flasher) and the device table, firmware images;
 * - signing and manifest: Ed25519/COSE, trust store, bundles, verification;
 * - gateway: the update engine, its configuration and status vocabulary.
 */
export { SubflashError, isSubflashError, describeError } from "./util/errors.js";
export { TypedEmitter } from "./util/events.js";
export { silentLogger, type Logger } from "./util/logger.js";

export type * from "./targets/transport/transport.js";
export { TransportError, type TransportErrorCode } from "./targets/transport/errors.js";
export {
  openSerialTransport,
  type SerialTransportOptions,
  type SerialParity,
} from "./targets/transport/usart.js";
export { openI2cTransport, openI2cBus } from "./targets/transport/i2c.js";
export {
  parseLineSequence,
  runLineSequence,
  bootloaderEntry,
  applicationExit,
  type LineStep,
} from "./targets/transport/entry.js";

export * from "./targets/stm32/index.js";
export * from "./targets/image/index.js";
export {
  encodeBootRecord,
  decodeBootRecord,
  decideBoot,
  copyToWrite,
  BOOT_RECORD_SIZE,
  BOOT_RECORD_MAGIC,
  BOOT_RECORD_VERSION,
  type AbSlot,
  type BootRecord,
  type BootRecordCopy,
  type BootDecision,
} from "./targets/ab/boot-record.js";

export * from "./signing/index.js";
export * from "./manifest/index.js";

export { UpdateEngine, type EngineEvents, type EngineOptions, type BundleOutcome } from "./gateway/engine.js";
export { loadConfig, parseConfig } from "./gateway/config.js";
export type * from "./gateway/status-types.js";
