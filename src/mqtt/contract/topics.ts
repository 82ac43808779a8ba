/**
 * Topic names of the MQTT contract (design.md decision 7), built and parsed in one place so the
 * gateway, the operator tools, the tests and docs/mqtt-api.md cannot drift apart.
 *
 *   {prefix}/{gw}/online                          retained "online" | "offline" (last will "offline")
 *   {prefix}/{gw}/status                          retained gateway summary (JSON)
 *   {prefix}/{gw}/modules/{module}/status         retained per-module status (JSON)
 *   {prefix}/{gw}/events                          transitions and throttled progress (JSON, not retained)
 *   {prefix}/{gw}/inventory                       retained: groups, modules with type, PID, layout, release (JSON)
 *   {prefix}/campaigns/{id}/…                     campaign state, decisions and control (campaign-topics.ts)
 *   {prefix}/{gw}/command/response[/{correlationId}]  out: command response (JSON)
 *   {prefix}/in/{gw}/update                       in: signed bundle (binary COSE)
 *   {prefix}/in/group/{group}/update              in: signed bundle for every gateway of a group
 *   {prefix}/in/{gw}/command[/{correlationId}]    in: signed command (binary COSE)
 *
 * Binary inputs live in a subtree of their own, `{prefix}/in/…`, outside every gateway's
 * `{prefix}/{gw}/…`: a `{prefix}/{gw}/#` subscription (mosquitto_sub, Node-RED, Home Assistant) sees
 * JSON only, and a broker ACL can give operators write access to `{prefix}/in/#` alone.
 */
import { MqttError } from "../errors.js";

export const DEFAULT_PREFIX = "subflash";

/** The level under `command/` that carries responses; never a correlation id. */
export const RESPONSE_LEVEL = "response";

/** Level-name reserved for group topics (`{prefix}/in/group/{group}/update`), so it cannot be a gateway id. */
export const GROUP_LEVEL = "group";

/** Level-name of the binary input subtree (`{prefix}/in/…`), so it cannot be a gateway id either. */
export const IN_LEVEL = "in";

/** Payloads of `{prefix}/{gw}/online` (retained; the last will is "offline"). */
export const ONLINE = "online";
export const OFFLINE = "offline";

/**
 * Checks one topic level (a gateway id, module name, group name or correlation id): non-empty,
 * no `/`, no wildcard, no NUL (MQTT 3.1.1 §4.7.1, MQTT 5 §4.7.1), and not a `$` system name.
 */
export function assertTopicLevel(value: string, what: string): string {
  if (value.length === 0) throw new MqttError("bad-topic", `${what} must not be empty`, { what });
  if (/[/+#]/.test(value) || value.includes("\0") || value.startsWith("$")) {
    throw new MqttError(
      "bad-topic",
      `${what} "${value}" cannot be an MQTT topic level (no "/", "+", "#", NUL, or leading "$")`,
      { what, value },
    );
  }
  return value;
}

/** Checks a topic prefix: one or more valid levels separated by "/", e.g. "subflash" or "acme/ota". */
export function assertPrefix(prefix: string): string {
  for (const level of prefix.split("/")) assertTopicLevel(level, `topic prefix "${prefix}" level`);
  return prefix;
}

/** Correlation ids travel as a topic level on MQTT 3.1.1, so they obey its rules, and "response" is taken. */
export function assertCorrelationId(id: string): string {
  assertTopicLevel(id, "correlation id");
  if (id === RESPONSE_LEVEL) {
    throw new MqttError("bad-topic", `correlation id must not be "${RESPONSE_LEVEL}"`, { value: id });
  }
  if (id.length > 128)
    throw new MqttError("bad-topic", "correlation id is longer than 128 characters", { value: id });
  return id;
}

/** Every topic of one gateway. */
export interface GatewayTopics {
  readonly prefix: string;
  readonly gateway: string;
  readonly online: string;
  readonly status: string;
  readonly events: string;
  readonly inventory: string;
  readonly update: string;
  readonly command: string;
  /** Subscription filter for commands carrying their correlation id as the last level (MQTT 3.1.1 form). */
  readonly commandWithIdFilter: string;
  readonly commandResponse: string;
  moduleStatus(module: string): string;
  commandFor(correlationId: string): string;
  commandResponseFor(correlationId: string): string;
  groupUpdate(group: string): string;
}

export function gatewayTopics(prefix: string, gateway: string): GatewayTopics {
  assertPrefix(prefix);
  assertTopicLevel(gateway, "gateway id");
  if (gateway === GROUP_LEVEL || gateway === IN_LEVEL) {
    throw new MqttError(
      "bad-topic",
      `gateway id must not be "${gateway}" (reserved for ${gateway === IN_LEVEL ? "input" : "group"} topics)`,
      { value: gateway },
    );
  }
  const base = `${prefix}/${gateway}`;
  const inBase = `${prefix}/${IN_LEVEL}/${gateway}`;
  return {
    prefix,
    gateway,
    online: `${base}/online`,
    status: `${base}/status`,
    events: `${base}/events`,
    inventory: `${base}/inventory`,
    update: `${inBase}/update`,
    command: `${inBase}/command`,
    commandWithIdFilter: `${inBase}/command/+`,
    commandResponse: `${base}/command/${RESPONSE_LEVEL}`,
    moduleStatus: (module) => `${base}/modules/${assertTopicLevel(module, "module name")}/status`,
    commandFor: (id) => `${inBase}/command/${assertCorrelationId(id)}`,
    commandResponseFor: (id) => `${base}/command/${RESPONSE_LEVEL}/${assertCorrelationId(id)}`,
    groupUpdate: (group) => groupUpdateTopic(prefix, group),
  };
}

export function groupUpdateTopic(prefix: string, group: string): string {
  return `${assertPrefix(prefix)}/${IN_LEVEL}/${GROUP_LEVEL}/${assertTopicLevel(group, "group name")}/update`;
}

/** What an incoming message on one of the gateway's subscriptions is. */
export type InboundTopic =
  | { kind: "update"; via: "gateway" }
  | { kind: "update"; via: "group"; group: string }
  | { kind: "command"; correlationId: string | null }
  /** One of our own outbound topics (an echo through an overlapping filter): ignore it. */
  | { kind: "own" }
  | { kind: "unknown" };

/** Classifies a topic the gateway received, against its own topics and groups. */
export function parseInboundTopic(
  topics: GatewayTopics,
  groups: readonly string[],
  topic: string,
): InboundTopic {
  if (topic === topics.update) return { kind: "update", via: "gateway" };
  for (const group of groups) {
    if (topic === topics.groupUpdate(group)) return { kind: "update", via: "group", group };
  }
  if (topic === topics.command) return { kind: "command", correlationId: null };
  if (topic === topics.commandResponse || topic.startsWith(`${topics.commandResponse}/`))
    return { kind: "own" };
  const commandLevel = `${topics.command}/`;
  if (topic.startsWith(commandLevel)) {
    const id = topic.slice(commandLevel.length);
    if (id.length > 0 && !id.includes("/")) return { kind: "command", correlationId: id };
  }
  const own = [topics.online, topics.status, topics.events, topics.inventory];
  if (
    own.includes(topic) ||
    (topic.startsWith(`${topics.prefix}/${topics.gateway}/modules/`) && topic.endsWith("/status"))
  ) {
    return { kind: "own" };
  }
  return { kind: "unknown" };
}

/** What a message seen by an operator tool (through the status filters) is about. */
export type StatusTopic =
  | { kind: "online"; gateway: string }
  | { kind: "gateway-status"; gateway: string }
  | { kind: "module-status"; gateway: string; module: string }
  | { kind: "inventory"; gateway: string }
  | { kind: "events"; gateway: string };

/** Subscription filters an operator uses to follow one gateway, or every gateway under the prefix. */
export function statusFilters(
  prefix: string,
  gateway?: string,
  opts: { events?: boolean; inventory?: boolean; modules?: boolean } = {},
): string[] {
  assertPrefix(prefix);
  const gw = gateway === undefined ? "+" : assertTopicLevel(gateway, "gateway id");
  const filters = [`${prefix}/${gw}/online`, `${prefix}/${gw}/status`];
  if (opts.modules ?? true) filters.push(`${prefix}/${gw}/modules/+/status`);
  if (opts.inventory) filters.push(`${prefix}/${gw}/inventory`);
  if (opts.events) filters.push(`${prefix}/${gw}/events`);
  return filters;
}

/** Parses a topic matched by {@link statusFilters}; anything else gives null. */
export function parseStatusTopic(prefix: string, topic: string): StatusTopic | null {
  if (!topic.startsWith(`${prefix}/`)) return null;
  const levels = topic.slice(prefix.length + 1).split("/");
  const [gateway, second, third, fourth] = levels;
  if (gateway === undefined || gateway === GROUP_LEVEL || gateway === IN_LEVEL || gateway.length === 0)
    return null;
  if (levels.length === 2 && second === "online") return { kind: "online", gateway };
  if (levels.length === 2 && second === "status") return { kind: "gateway-status", gateway };
  if (levels.length === 2 && second === "events") return { kind: "events", gateway };
  if (levels.length === 2 && second === "inventory") return { kind: "inventory", gateway };
  if (levels.length === 4 && second === "modules" && third && fourth === "status") {
    return { kind: "module-status", gateway, module: third };
  }
  return null;
}
