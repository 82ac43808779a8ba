/**
 * Test doubles that are product features: the simulated STM32 module (USART and I2C bootloaders,
 * flash, timing, faults) and the simulated module firmware (slot selector + probe application).
 * Kept apart from the main entry point so production code does not load them by accident.
 */
export * from "./targets/sim/index.js";
export * from "./targets/sim/firmware/image-format.js";
export * from "./targets/sim/firmware/module-firmware.js";
export { createSimTargetFactory } from "./gateway/sim-targets.js";
