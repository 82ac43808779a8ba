export type { MqttConnection } from "../connection/connection.js";
export type { EventEnvelope, WireGatewayStatus, WireModuleStatus } from "../contract/contract.js";
export { DEFAULT_PREFIX, assertPrefix, assertTopicLevel } from "../contract/topics.js";
export { FleetWatcher, connectOperator, publishBundle, sendCommand } from "./operator.js";
export type { BundleTarget } from "./operator.js";
export { peekBundle } from "./peek.js";
export { renderStatusTable } from "./status-table.js";
export { retireGateway } from "./retire.js";
export type { RetireOptions } from "./retire.js";
