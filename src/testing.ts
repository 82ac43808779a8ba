/**
 * `subflash/testing`: the simulator wing's public face. Test doubles that are product features: the
 * simulated STM32 module (USART and I2C bootloaders, flash, timing, faults), the simulated module
 * firmware (slot selector + probe application), and the simulated world (demo product, sim specs,
 * a target factory backed by simulated modules). Kept apart from the main entry point so
 * production code does not load them by accident.
 */
export * from "./sim/index.js";
