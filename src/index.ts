/**
 * subflash's public API (`import … from "subflash"`): what a program that flashes STM32 modules,
 * signs releases or embeds the gateway needs, chosen name by name. The layers' entry files
 * (ARCHITECTURE.md) export more, for each other; only what is listed here is promised to users.
 * test/api/public-api.test.ts keeps a report of this surface (test/api/public-api.txt), so a change
 * shows in review. The simulator is published apart, as `subflash/testing`.
 */

// Errors, events and logging shared by every layer.
export { SubflashError, isSubflashError, describeError } from "./util/errors.js";
export { TypedEmitter } from "./util/events.js";
export { silentLogger, type Logger } from "./util/logger.js";

// Transports: serial ports (AN3155 USART) and I2C buses (AN4221), DTR/RTS entry sequences.
export {
  openSerialTransport,
  DEFAULT_BAUD,
  openI2cTransport,
  openI2cBus,
  TransportError,
  parseLineSequence,
  runLineSequence,
  bootloaderEntry,
  applicationExit,
  type SerialTransportOptions,
  type SerialParity,
  type Transport,
  type StreamTransport,
  type I2cTransport,
  type TransportErrorCode,
  type LineStep,
} from "./targets/index.js";

// The ROM bootloader stack and the device table.
export {
  Bootloader,
  BootloaderError,
  Flasher,
  flashImage,
  FlashError,
  DEVICES,
  findDevice,
  resolveDevice,
  scanI2cBus,
  identifyI2c,
  Opcode,
  commandName,
  type ConnectOptions,
  type RdpState,
  type BootloaderErrorCode,
  type FlashOptions,
  type FlashResult,
  type FlashProgress,
  type FlashEvents,
  type FlashStats,
  type VerifyMode,
  type FlashErrorCode,
  type DeviceInfo,
  type Family,
  type EraseUnit,
  type I2cScanEntry,
  type I2cScanOptions,
} from "./targets/index.js";

// Firmware images (.bin, Intel HEX, ELF) and the A/B boot record (docs/module-firmware.md).
export {
  loadImage,
  parseBinary,
  parseIntelHex,
  parseElf,
  ImageError,
  imageStart,
  imageEnd,
  imageSize,
  flattenImage,
  encodeBootRecord,
  decodeBootRecord,
  decideBoot,
  copyToWrite,
  BOOT_RECORD_SIZE,
  BOOT_RECORD_MAGIC,
  BOOT_RECORD_VERSION,
  type LoadImageOptions,
  type ImageFormat,
  type FirmwareImage,
  type ImageSegment,
  type ImageErrorCode,
  type AbSlot,
  type BootRecord,
  type BootRecordCopy,
  type BootDecision,
} from "./targets/index.js";

// Keys, trust stores and digests.
export {
  generateKeyPair,
  keyPairFromSeed,
  createSigningKey,
  readSigningKey,
  readPublicKeyFile,
  writeKeyFiles,
  keyId,
  loadTrustStore,
  parseTrustStore,
  saveTrustStore,
  sha256,
  crc32,
  stm32Crc,
  SigningError,
  type Ed25519KeyPair,
  type SigningKey,
  type TrustStore,
  type TrustedKey,
  type SigningErrorCode,
} from "./signing/index.js";

// Releases, bundles, signed commands and their verification (docs/manifest.md).
export {
  buildRelease,
  readReleaseSpec,
  parseReleaseSpec,
  signManifest,
  signCommand,
  encodeBundle,
  createBundle,
  decodeBundle,
  verifyBundle,
  verifyCommand,
  openBundle,
  formatManifest,
  manifestToJson,
  compareVersions,
  ManifestError,
  type BuiltRelease,
  type ReleaseSpec,
  type ReleaseOptions,
  type VerifyOptions,
  type CommandVerifyOptions,
  type VerifyOutcome,
  type VerifiedBundle,
  type VerifyFailure,
  type VerifyFailureCode,
  type CommandVerifyOutcome,
  type PolicyState,
  type Manifest,
  type ModuleEntry,
  type SlotImage,
  type SignedCommand,
  type CommandKind,
  type ManifestErrorCode,
} from "./manifest/index.js";

// The gateway's update engine, its configuration and its status vocabulary (docs/mqtt-api.md).
export {
  UpdateEngine,
  loadConfig,
  parseConfig,
  ConfigError,
  type EngineOptions,
  type EngineEvents,
  type BundleOutcome,
  type CommandOutcome,
  type GatewayConfig,
  type GatewayConfigInput,
  type ModuleConfig,
  type TargetFactory,
  type ModuleState,
  type ModuleStatus,
  type GatewayStatus,
  type GatewayEvent,
  type StatusError,
  type StatusErrorCode,
  type BundleState,
  type Slot,
  type ProgressInfo,
  type RejectedBundle,
} from "./gateway/index.js";
