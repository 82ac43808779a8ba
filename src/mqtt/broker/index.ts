export { startEmbeddedBroker } from "./broker.js";
export type { EmbeddedBroker } from "./broker.js";
