/**
 * The STM32 ROM-bootloader layer, public surface: link (framing, timeouts, resync), commands,
 * the Bootloader session and the Flasher. Device data and error classes are re-exported here too.
 */
export {
  ACK,
  NACK,
  BUSY,
  ACTIVATE,
  xor,
  commandFrame,
  byteFrame,
  addressFrame,
  checksummed,
} from "./link-frames.js";
export {
  DEFAULT_TIMEOUT_POLICY,
  BITS_PER_BYTE,
  wireMs,
  replyTimeoutMs,
  deviceWorstCase,
  type TimeoutPolicy,
} from "./link-timeouts.js";
export {
  UsartLink,
  type Link,
  type LinkIo,
  type LinkFailure,
  type Step,
  type UsartLinkOptions,
  type ActivationOutcome,
} from "./link.js";
export { Opcode, commandName, versionString, RESETTING, type OpcodeName } from "./commands/codes.js";
export {
  decodeGet,
  decodeGetId,
  decodeGetVersion,
  type GetReply,
  type IdReply,
  type VersionReply,
} from "./commands/identify.js";
export { MAX_TRANSFER, encodeWriteData } from "./commands/memory.js";
export {
  EXTENDED_MAX_UNITS,
  LEGACY_MAX_UNITS,
  encodeExtendedErase,
  encodeLegacyErase,
  eraseBatches,
  type EraseOpcode,
  type EraseRequest,
} from "./commands/erase.js";
export { encodeWriteProtect } from "./commands/protection.js";
export { decodeChecksum } from "./commands/checksum.js";
export { Bootloader, type ConnectOptions, type RdpState } from "./bootloader.js";
export { Flasher, flashImage } from "./flasher.js";
export { resolveVerify } from "./flasher-preflight.js";
export {
  planFlash,
  planErase,
  writeGranule,
  type FlashPlan,
  type ErasePlan,
  type WriteBlock,
  type FlashRange,
  type EraseMode,
} from "./flasher-plan.js";
export { FlashError, type FlashErrorCode } from "./flasher-errors.js";
export { withRetry, isRetryable, type RetryContext } from "./flasher-retry.js";
export { ProgressTracker, type PhaseEstimate } from "./flasher-progress.js";
export { BootloaderError, type BootloaderErrorCode } from "./errors.js";
export type * from "./flash-types.js";
export * from "./device.js";
export { DEVICES, findDevice, resolveDevice } from "./devices.js";
export { I2cLink, I2C_TIMEOUT_POLICY, type I2cLinkOptions, type I2cLinkFailure } from "./link-i2c.js";
export {
  I2C_GET_COUNTS,
  NO_STRETCH,
  guessGetCount,
  i2cOpcode,
  isNoStretch,
  needsClockStretching,
  plainOpcode,
} from "./i2c-commands.js";
export { identifyI2c, i2cCompletion, type I2cCompletion, type I2cIdentity } from "./i2c-session.js";
export { scanI2cBus, type I2cScanEntry, type I2cScanOptions } from "./i2c-scan.js";
