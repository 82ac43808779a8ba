import { SubflashError } from "../util/errors.js";

export type MqttErrorCode =
  | "bad-topic" // a prefix, gateway id, group, module name or correlation id that cannot be a topic level
  | "bad-url" // the broker URL cannot be parsed or has an unsupported scheme
  | "connect-failed" // the broker could not be reached (DNS, refused, TLS)
  | "connection-refused" // the broker answered CONNACK with a refusal (auth, client id…)
  | "timeout" // no CONNACK, SUBACK, PUBACK or command response within the time allowed
  | "not-connected" // an operation that needs a live connection was tried while offline
  | "bad-payload" // a status or response payload that is not the JSON the contract describes
  | "gateway-online"; // retiring a gateway that still says it is online

/** The MQTT side of the gateway and the operator tools: connecting, topics, payloads. */
export class MqttError extends SubflashError<MqttErrorCode> {
  readonly domain = "mqtt";
}
