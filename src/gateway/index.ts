export { loadConfig, parseConfig } from "./config/config.js";
export type { GatewayConfig, GatewayConfigInput, ModuleConfig } from "./config/config.js";
export { UpdateEngine } from "./engine.js";
export type { BundleOutcome, CommandOutcome, EngineEvents, EngineOptions } from "./engine.js";
export { ConfigError } from "./errors.js";
export type { TargetFactory } from "./module/targets.js";
export * from "./status/types.js";
export type { GatewayInventory, InventoryModule } from "./status/inventory.js";
export { writeFileAtomic, readJsonFile, ensureDirectory } from "./store/atomic-file.js";
