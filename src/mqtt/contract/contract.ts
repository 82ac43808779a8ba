/**
 * The MQTT contract as types: which payload travels on which topic (see topics.ts for the names and
 * docs/mqtt-api.md for examples). Status, events and responses are JSON so that mosquitto_sub,
 * Node-RED, Home Assistant or Grafana can read them; bundles and commands are binary COSE_Sign1.
 *
 * The gateway side only serialises what the engine produced (src/gateway/status/types.ts). The operator side
 * (status, rollback, demo) reads payloads written by another process, possibly another version,
 * so its decoders check the fields it relies on and keep the rest.
 */
import { z } from "zod";
import type { GatewayInventory, GatewayStatus, ModuleStatus, StatusError } from "../../gateway/index.js";
import { MqttError } from "../errors.js";

/**
 * `{prefix}/{gw}/online`: retained "online" while the gateway runs; "offline" on clean stop and as last
 * will. These are the words Home Assistant's availability defaults and most MQTT tools expect (before
 * 0.2 the payloads were "true"/"false"; operator tools still read those from older gateways).
 */
export type OnlinePayload = "online" | "offline";

/**
 * One message on `{prefix}/{gw}/events` (not retained). Every event names its gateway and time. The
 * engine's events (`GatewayEvent`: transition, progress, bundle, rejected, command) go out with the
 * gateway id added; the MQTT side adds `bundle-too-large`.
 */
export interface EventEnvelope {
  /** Event name, e.g. "transition", "progress", "bundle", "rejected", "command", "bundle-too-large". */
  type: string;
  gateway: string;
  /** ISO-8601. */
  at: string;
  [field: string]: unknown;
}

/** A bundle larger than the gateway accepts was dropped before any decoding (`bundle-too-large`). */
export interface BundleTooLargeEvent extends EventEnvelope {
  type: "bundle-too-large";
  topic: string;
  bytes: number;
  limit: number;
}

/** `{prefix}/{gw}/command/response[/{id}]`: the answer to one signed command. */
export interface CommandResponse {
  /** The caller's correlation id (MQTT 5 correlation data as UTF-8, or the topic's last level); null if none. */
  correlationId: string | null;
  gateway: string;
  status: "ok" | "error";
  /** What the command was, when it could be decoded: "rollback", "cancel", "retry", "acknowledge-state". */
  command: string | null;
  /** Modules the command acted on. */
  modules: string[];
  /** Set when status is "error": a stable code (bad-signature, replayed-sequence, busy…) and a message. */
  error: StatusError | null;
  /** The engine's full outcome, JSON-safe, for tools that want more. */
  detail: unknown;
  at: string;
}

/** Topic → payload, by the names of {@link GatewayTopics}. */
export interface TopicPayloads {
  online: OnlinePayload;
  status: GatewayStatus;
  moduleStatus: ModuleStatus;
  events: EventEnvelope;
  commandResponse: CommandResponse;
  /** Retained: what the gateway is and holds (groups, modules with type, PID, layout, release). */
  inventory: GatewayInventory;
  /** Signed bundle: COSE_Sign1 (RFC 9052) bytes, images inline or by URL. */
  update: Uint8Array;
  /** Signed command: COSE_Sign1 bytes (rollback, cancel, retry). */
  command: Uint8Array;
}

/** Serialises a JSON payload of the contract. */
export function encodeJson<K extends "status" | "moduleStatus" | "events" | "commandResponse" | "inventory">(
  _kind: K,
  payload: TopicPayloads[K],
): string {
  return JSON.stringify(payload);
}

// ---- operator-side decoding -------------------------------------------------------------------

const statusError = z.looseObject({ code: z.string(), message: z.string() });
const progress = z.looseObject({
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  percent: z.number(),
});

const moduleStatusSchema = z.looseObject({
  module: z.string(),
  moduleType: z.string().optional(),
  state: z.string(),
  version: z.string().nullable().optional(),
  activeSlot: z.string().nullable().optional(),
  targetVersion: z.string().nullable().optional(),
  progress: progress.nullable().optional(),
  remainingSeconds: z.number().nullable().optional(),
  release: z.string().nullable().optional(),
  sequence: z.number().nullable().optional(),
  verification: z.string().nullable().optional(),
  lastError: statusError.nullable().optional(),
  note: z.string().nullable().optional(),
  seq: z.number(),
  updatedAt: z.string().optional(),
});

const gatewayStatusSchema = z.looseObject({
  gateway: z.string(),
  groups: z.array(z.string()).optional(),
  online: z.boolean().optional(),
  bundle: z
    .looseObject({
      release: z.string(),
      sequence: z.number(),
      state: z.string(),
      error: statusError.nullable().optional(),
      startedAt: z.string().optional(),
      finishedAt: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  lastRun: z
    .looseObject({
      kind: z.string(),
      release: z.string().nullable(),
      state: z.string(),
      summary: z.string(),
      error: statusError.nullable().optional(),
    })
    .nullable()
    .optional(),
  lastSequence: z.number().optional(),
  lastRejected: z
    .looseObject({
      release: z.string().nullable(),
      sequence: z.number().nullable(),
      error: statusError,
      topic: z.string().nullable().optional(),
      at: z.string(),
    })
    .nullable()
    .optional(),
  /** Why every bundle is refused until an operator acknowledges (state-lost, state-disagrees). */
  stateAlert: statusError.nullable().optional(),
  seq: z.number(),
});

const inventorySchema = z.looseObject({
  gateway: z.string(),
  groups: z.array(z.string()),
  lastSequence: z.number(),
  bundle: z
    .looseObject({ release: z.string(), sequence: z.number(), state: z.string() })
    .nullable()
    .optional(),
  modules: z.array(
    z.looseObject({
      module: z.string(),
      type: z.string(),
      pid: z.number(),
      layout: z.enum(["ab", "single"]),
      version: z.string().nullable(),
      release: z.string().nullable(),
      state: z.string(),
      error: statusError.nullable().optional(),
    }),
  ),
  updatedAt: z.string().optional(),
});

const commandResponseSchema = z.looseObject({
  correlationId: z.string().nullable(),
  gateway: z.string(),
  status: z.enum(["ok", "error"]),
  command: z.string().nullable().optional(),
  modules: z.array(z.string()).optional(),
  error: statusError.nullable().optional(),
});

const eventSchema: z.ZodType<EventEnvelope> = z.looseObject({
  type: z.string(),
  gateway: z.string(),
  at: z.string(),
});

function parseJson<T>(schema: z.ZodType<T>, payload: Uint8Array, topic: string): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new MqttError("bad-payload", `${topic}: payload is not UTF-8 JSON`, { topic });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new MqttError("bad-payload", `${topic}: ${problems}`, { topic });
  }
  return parsed.data;
}

export function decodeOnline(payload: Uint8Array, topic: string): boolean {
  const text = new TextDecoder().decode(payload).trim();
  // "true"/"false": gateways from before the online/offline payloads.
  if (text === "online" || text === "true") return true;
  if (text === "offline" || text === "false") return false;
  throw new MqttError("bad-payload", `${topic}: expected "online" or "offline", got "${text.slice(0, 40)}"`, {
    topic,
  });
}

/** A module status as read from the wire: the fields the tools use are checked, unknown ones kept. */
export type WireModuleStatus = z.infer<typeof moduleStatusSchema>;
export type WireGatewayStatus = z.infer<typeof gatewayStatusSchema>;
export type WireCommandResponse = z.infer<typeof commandResponseSchema>;
export type WireInventory = z.infer<typeof inventorySchema>;

export const decodeModuleStatus = (payload: Uint8Array, topic: string): WireModuleStatus =>
  parseJson(moduleStatusSchema, payload, topic);
export const decodeGatewayStatus = (payload: Uint8Array, topic: string): WireGatewayStatus =>
  parseJson(gatewayStatusSchema, payload, topic);
export const decodeCommandResponse = (payload: Uint8Array, topic: string): WireCommandResponse =>
  parseJson(commandResponseSchema, payload, topic);
export const decodeInventory = (payload: Uint8Array, topic: string): WireInventory =>
  parseJson(inventorySchema, payload, topic);
export const decodeEvent = (payload: Uint8Array, topic: string): EventEnvelope =>
  parseJson(eventSchema, payload, topic);

/**
 * The correlation id as text: MQTT 5 correlation data is bytes; subflash tools send UTF-8 ids, other
 * clients may send anything, which is then shown as "hex:…".
 */
export function correlationText(data: Uint8Array): string {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    if (/^[\x20-\x7e]{1,128}$/.test(text)) return text;
  } catch {
    // not UTF-8: fall through to hex
  }
  return `hex:${Buffer.from(data).toString("hex")}`;
}
