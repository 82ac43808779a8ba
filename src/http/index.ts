export { GatewayMetrics, MODULE_STATES } from "./metrics.js";
export type { MetricsConnection, MetricsEngine } from "./metrics.js";
export { startHttpServer, splitListen } from "./server.js";
export type { GatewayHttpServer, HttpServerOptions } from "./server.js";
