export { DEFAULT_MAX_BUNDLE_BYTES } from "./bridge.js";
export { startGatewayService } from "./service.js";
export type { GatewayService } from "./service.js";
