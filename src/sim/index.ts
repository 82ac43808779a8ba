export { runDemo } from "./demo/story.js";
export * from "./firmware/image-format.js";
export * from "./firmware/module-firmware.js";
export * from "./module/index.js";
export { createSimModules } from "./world/sim-modules.js";
export type { SimModules } from "./world/sim-modules.js";
export { loadSimSpec } from "./world/sim-spec.js";
export { createSimTargetFactory } from "./world/sim-targets.js";
