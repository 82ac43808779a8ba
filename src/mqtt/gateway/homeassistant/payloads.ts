/**
 * Home Assistant MQTT discovery payloads (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
 * and https://www.home-assistant.io/integrations/update.mqtt/): one device per gateway, one device per
 * module connected through it (`via_device`), and per module an `update` entity plus a few
 * diagnostic sensors. Pure functions: the publisher decides when they go out.
 *
 * No Install button: the entity has no `command_topic`/`payload_install`. An install is a signed
 * bundle, and a button in Home Assistant could only ask the gateway to install what it already
 * verified; whoever can press it is not whoever signs releases, so the gateway offers none.
 */
import type { GatewayStatus, ModuleStatus } from "../../../gateway/index.js";
import { compareVersions, isVersion } from "../../../manifest/index.js";
import type { GatewayTopics } from "../../contract/topics.js";
import { OFFLINE, ONLINE } from "../../contract/topics.js";

export const ORIGIN = {
  name: "subflash",
  support_url: "https://github.com/subflash/subflash",
} as const;

/** Where one gateway's discovery lives. */
export interface DiscoveryNaming {
  /** Home Assistant's discovery prefix, default "homeassistant". */
  haPrefix: string;
  topics: GatewayTopics;
}

/** HA node and object ids allow [a-zA-Z0-9_-] only; anything else becomes "_". */
export function haId(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, "_");
}

export function nodeId(gateway: string): string {
  return `subflash_${haId(gateway)}`;
}

/** Retained JSON state of a module's update entity (ours, under the gateway's topics). */
export function updateStateTopic(topics: GatewayTopics, module: string): string {
  return `${topics.moduleStatus(module).slice(0, -"/status".length)}/homeassistant`;
}

export type Component = "update" | "sensor";

export interface DiscoveryMessage {
  topic: string;
  /** The config JSON, or "" to remove the entity (an empty retained message). */
  payload: string;
}

const SENSORS = [
  {
    key: "state",
    name: "State",
    template: "{{ value_json.state }}",
    icon: "mdi:state-machine",
  },
  {
    key: "last_error",
    name: "Last error",
    template: "{{ value_json.lastError.code if value_json.lastError else 'none' }}",
    icon: "mdi:alert-circle-outline",
  },
  {
    key: "active_slot",
    name: "Active slot",
    template: "{{ value_json.activeSlot if value_json.activeSlot else 'unknown' }}",
    icon: "mdi:dip-switch",
  },
] as const;

export function discoveryTopic(naming: DiscoveryNaming, component: Component, objectId: string): string {
  return `${naming.haPrefix}/${component}/${nodeId(naming.topics.gateway)}/${haId(objectId)}/config`;
}

function availability(topics: GatewayTopics): Array<Record<string, string>> {
  return [{ topic: topics.online, payload_available: ONLINE, payload_not_available: OFFLINE }];
}

function gatewayDevice(topics: GatewayTopics, swVersion: string): Record<string, unknown> {
  return {
    identifiers: [nodeId(topics.gateway)],
    name: `subflash ${topics.gateway}`,
    manufacturer: "subflash",
    model: "subflash gateway",
    sw_version: swVersion,
  };
}

function moduleDevice(topics: GatewayTopics, status: ModuleStatus): Record<string, unknown> {
  return {
    identifiers: [`${nodeId(topics.gateway)}_${haId(status.module)}`],
    name: `${topics.gateway} ${status.module}`,
    manufacturer: "subflash",
    model: status.moduleType,
    ...(status.version ? { sw_version: status.version } : {}),
    via_device: nodeId(topics.gateway),
  };
}

/** Every discovery config of one module: its update entity and its diagnostic sensors. */
export function moduleDiscovery(
  naming: DiscoveryNaming,
  status: ModuleStatus,
  swVersion: string,
): DiscoveryMessage[] {
  const { topics } = naming;
  const base = `${nodeId(topics.gateway)}_${haId(status.module)}`;
  const origin = { ...ORIGIN, sw_version: swVersion };
  const device = moduleDevice(topics, status);
  const update = {
    name: "Firmware",
    unique_id: `${base}_firmware`,
    default_entity_id: `update.${base}`,
    device_class: "firmware",
    state_topic: updateStateTopic(topics, status.module),
    json_attributes_topic: topics.moduleStatus(status.module),
    availability: availability(topics),
    device,
    origin,
  };
  const messages: DiscoveryMessage[] = [
    { topic: discoveryTopic(naming, "update", status.module), payload: JSON.stringify(update) },
  ];
  for (const sensor of SENSORS) {
    messages.push({
      topic: discoveryTopic(naming, "sensor", `${status.module}_${sensor.key}`),
      payload: JSON.stringify({
        name: sensor.name,
        unique_id: `${base}_${sensor.key}`,
        default_entity_id: `sensor.${base}_${sensor.key}`,
        state_topic: topics.moduleStatus(status.module),
        value_template: sensor.template,
        entity_category: "diagnostic",
        icon: sensor.icon,
        availability: availability(topics),
        device,
        origin,
      }),
    });
  }
  return messages;
}

/** The gateway's own device, with one diagnostic sensor: what its last run did. */
export function gatewayDiscovery(naming: DiscoveryNaming, swVersion: string): DiscoveryMessage[] {
  const { topics } = naming;
  const node = nodeId(topics.gateway);
  return [
    {
      topic: discoveryTopic(naming, "sensor", "last_run"),
      payload: JSON.stringify({
        name: "Last run",
        unique_id: `${node}_last_run`,
        default_entity_id: `sensor.${node}_last_run`,
        state_topic: topics.status,
        value_template: "{{ value_json.lastRun.summary if value_json.lastRun else 'none' }}",
        entity_category: "diagnostic",
        icon: "mdi:update",
        availability: availability(topics),
        device: gatewayDevice(topics, swVersion),
        origin: { ...ORIGIN, sw_version: swVersion },
      }),
    },
  ];
}

/** Empty retained configs that remove a module's entities from Home Assistant. */
export function moduleRemoval(naming: DiscoveryNaming, module: string): DiscoveryMessage[] {
  return [
    { topic: discoveryTopic(naming, "update", module), payload: "" },
    ...SENSORS.map((s) => ({ topic: discoveryTopic(naming, "sensor", `${module}_${s.key}`), payload: "" })),
  ];
}

/** The update entity's state JSON (update.mqtt: installed_version, latest_version, in_progress…). */
export interface UpdateEntityState {
  installed_version: string | null;
  latest_version: string | null;
  title: string;
  release_summary?: string;
  release_url?: string;
  in_progress: boolean;
  update_percentage: number | null;
}

const SETTLED = new Set<string>(["idle", "committed", "failed", "rolled-back"]);

export function isInProgress(status: ModuleStatus): boolean {
  return !SETTLED.has(status.state);
}

/** The newer of two versions (either may be null; versions that do not compare keep `a`). */
export function newerVersion(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  if (!isVersion(a) || !isVersion(b)) return a;
  return compareVersions(b, a) > 0 ? b : a;
}

export function updateEntityState(
  status: ModuleStatus,
  latest: string | null,
  percent: number | null,
  gateway: Pick<GatewayStatus, "lastRun">,
): UpdateEntityState {
  const installed = status.version;
  const run = gateway.lastRun;
  const notes = run && run.release !== null && run.release === status.release ? run.notes : null;
  return {
    installed_version: installed,
    latest_version: newerVersion(installed, latest) ?? installed,
    title: status.release ? `${status.moduleType} (${status.release})` : status.moduleType,
    ...(notes?.summary ? { release_summary: notes.summary } : {}),
    ...(notes?.url ? { release_url: notes.url } : {}),
    in_progress: isInProgress(status),
    update_percentage: isInProgress(status) ? percent : null,
  };
}
