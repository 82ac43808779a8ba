/**
 * Test doubles that are product features: the simulated STM32 module (USART and I2C bootloaders,
 * flash, timing, faults) and the simulated module firmware (slot selector + probe application).
 * Kept apart from the main entry point so production code does not load them by accident.
 */
export * from "./sim/index.js";
export * from "./sim/index.js";
export * from "./sim/index.js";
export { createSimTargetFactory } from "./sim/index.js";
