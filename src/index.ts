/**
 * subflash's public API (`import … from "subflash"`): what a program that updates STM32 modules,
 * signs releases or embeds the gateway needs. Each part is the entry file of its layer
 * (ARCHITECTURE.md), so the library and the CLI see the same surface:
 *
 * - targets: transports (USART on serialport, I2C on i2c-bus, DTR/RTS and GPIO lines), the STM32
 *   ROM bootloader stack (link → commands → bootloader session → flasher), the device table,
 *   firmware images (.bin, Intel HEX, ELF) and the A/B boot record;
 * - signing: Ed25519, COSE, key files, trust stores, digests;
 * - manifest: bundles and manifests, verification and policy, release tooling;
 * - gateway: the update engine, its configuration and its status vocabulary.
 *
 * The simulator is published apart, as `subflash/testing`. test/api/public-api.test.ts keeps a
 * report of every exported name (test/api/public-api.txt), so a change to this surface shows in
 * review.
 */
export { SubflashError, isSubflashError, describeError } from "./util/errors.js";
export { TypedEmitter } from "./util/events.js";
export { silentLogger, type Logger } from "./util/logger.js";

export * from "./targets/index.js";
export * from "./signing/index.js";
export * from "./manifest/index.js";
export * from "./gateway/index.js";
