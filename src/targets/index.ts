export {
  BOOT_RECORD_MAGIC,
  BOOT_RECORD_VERSION,
  BOOT_RECORD_SIZE,
  copyToWrite,
  decideBoot,
  decodeBootRecord,
  encodeBootRecord,
} from "./ab/boot-record.js";
export type { AbSlot, BootDecision, BootRecord, BootRecordCopy } from "./ab/boot-record.js";
export { imageSize } from "./image/image.js";
export type { FirmwareImage } from "./image/image.js";
export * from "./image/index.js";
export { Bootloader } from "./stm32/bootloader.js";
export { Opcode, commandName, versionString } from "./stm32/commands/codes.js";
export type { EraseRequest } from "./stm32/commands/erase.js";
export {
  eraseUnits,
  flashSize,
  hasI2cBootloader,
  programMs,
  unitEraseMs,
  unitsCovering,
} from "./stm32/device.js";
export type {
  Confidence,
  DeviceInfo,
  EraseUnit,
  Family,
  I2cBootloaderFacts,
  I2cPort,
} from "./stm32/device.js";
export { findDevice, resolveDevice } from "./stm32/devices.js";
export type {
  DiffMode,
  FlashEvents,
  FlashProgress,
  FlashResult,
  FlashStats,
  KnownContent,
  UnitStats,
  VerifyMode,
} from "./stm32/flash-types.js";
export { deviceSummaries, renderDevicesMarkdown } from "./stm32/device-summary.js";
export type { DeviceSummary } from "./stm32/device-summary.js";
export { withRetry } from "./stm32/flasher-retry.js";
export { Flasher, flashImage } from "./stm32/flasher.js";
export { scanI2cBus } from "./stm32/i2c-scan.js";
export type { I2cScanEntry } from "./stm32/i2c-scan.js";
export * from "./stm32/index.js";
export { wireMs } from "./stm32/link-timeouts.js";
export { openDeviceEnd } from "./transport/device-end.js";
export type { DeviceEnd } from "./transport/device-end.js";
export { applicationExit, bootloaderEntry, parseLineSequence, runLineSequence } from "./transport/entry.js";
export type { LineStep } from "./transport/entry.js";
export { TransportError } from "./transport/errors.js";
export type { TransportErrorCode } from "./transport/errors.js";
export { GpiosetLines } from "./transport/gpio-lines.js";
export type { PinLevels, ResetLines } from "./transport/gpio-lines.js";
export {
  DEFAULT_I2C_CLOCK_HZ,
  FIRST_I2C_ADDRESS,
  I2C_BITS_PER_BYTE,
  I2C_TRANSACTION_OVERHEAD_BITS,
  LAST_I2C_ADDRESS,
  checkI2cAddress,
  checkI2cClock,
  i2cAddressName,
  i2cTransactionMs,
  parseI2cBus,
} from "./transport/i2c-types.js";
export type { I2cBusAccess } from "./transport/i2c-types.js";
export { openI2cBus, openI2cTransport } from "./transport/i2c.js";
export * from "./transport/transport.js";
export { DEFAULT_BAUD, openSerialTransport } from "./transport/usart.js";
export type { SerialParity, SerialTransportOptions } from "./transport/usart.js";
