/**
 * The operator's side of the contract, shared by `subflash publish|status|rollback`, the demo and the
 * integration tests: connect (MQTT 5, falling back to 3.1.1), publish a bundle to a gateway or a
 * group, follow retained status, send a signed command and wait for its correlated response.
 */
import { randomUUID } from "node:crypto";
import { TypedEmitter } from "../../util/events.js";
import type { Logger } from "../../util/logger.js";
import { MqttConnection } from "../connection/connection.js";
import type { InboundMessage, MqttTlsOptions, ProtocolVersion } from "../connection/connection.js";
import { decodeCommandResponse, decodeEvent } from "../contract/contract.js";
import type { EventEnvelope, WireCommandResponse } from "../contract/contract.js";
import { MqttError } from "../errors.js";
import { FleetView } from "./fleet-view.js";
import type { StatusTopic } from "../contract/topics.js";
import {
  DEFAULT_PREFIX,
  gatewayTopics,
  groupUpdateTopic,
  parseStatusTopic,
  statusFilters,
} from "../contract/topics.js";

export interface OperatorConnectOptions {
  broker: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  protocolVersion?: ProtocolVersion;
  clientId?: string;
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** Connects an operator tool; fails fast (no retry loop) when the broker cannot be reached. */
export async function connectOperator(opts: OperatorConnectOptions): Promise<MqttConnection> {
  const connection = new MqttConnection({
    url: opts.broker,
    clientId: opts.clientId ?? `subflash-op-${randomUUID().slice(0, 8)}`,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    protocolVersion: opts.protocolVersion ?? 5,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    retryInitialConnect: false,
    backoff: { initialMs: 250, maxMs: 5000 },
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  await connection.waitConnected((opts.connectTimeoutMs ?? 10_000) * 2 + 2000);
  return connection;
}

export type BundleTarget = { gateway: string } | { group: string };

/** Publishes a signed bundle (QoS 1, not retained) and waits for the broker's acknowledgement. Returns the topic. */
export async function publishBundle(
  connection: MqttConnection,
  target: BundleTarget,
  bundle: Uint8Array,
  prefix = DEFAULT_PREFIX,
): Promise<string> {
  const topic =
    "gateway" in target
      ? gatewayTopics(prefix, target.gateway).update
      : groupUpdateTopic(prefix, target.group);
  await connection.publishAndWait(topic, bundle, { qos: 1, retain: false });
  return topic;
}

export interface FleetWatcherEvents {
  change: [StatusTopic];
  event: [EventEnvelope];
}

/** Follows the retained status (and optionally the events) of one gateway or all of them. */
export class FleetWatcher extends TypedEmitter<FleetWatcherEvents> {
  readonly view: FleetView;
  readonly #connection: MqttConnection;
  readonly #prefix: string;
  readonly #gateway: string | undefined;
  readonly #events: boolean;
  readonly #inventory: boolean;
  readonly #modules: boolean;
  #lastMessageAt = 0;

  constructor(
    connection: MqttConnection,
    opts: {
      prefix?: string;
      gateway?: string;
      events?: boolean;
      inventory?: boolean;
      modules?: boolean;
    } = {},
  ) {
    super();
    this.#connection = connection;
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#gateway = opts.gateway;
    this.#events = opts.events ?? false;
    this.#inventory = opts.inventory ?? false;
    this.#modules = opts.modules ?? true;
    this.view = new FleetView(this.#prefix);
  }

  async start(): Promise<void> {
    this.#connection.on("message", this.#onMessage);
    await this.#connection.subscribe(
      statusFilters(this.#prefix, this.#gateway, {
        events: this.#events,
        inventory: this.#inventory,
        modules: this.#modules,
      }).map((filter) => ({
        filter,
        qos: 1,
      })),
    );
  }

  stop(): void {
    this.#connection.off("message", this.#onMessage);
  }

  /** Waits until retained messages stop arriving (`quietMs` without one), at most `maxMs`. */
  async settle(quietMs = 300, maxMs = 3000): Promise<void> {
    const started = Date.now();
    this.#lastMessageAt = Math.max(this.#lastMessageAt, started);
    while (Date.now() - started < maxMs && Date.now() - this.#lastMessageAt < quietMs) {
      await sleep(Math.min(50, quietMs));
    }
  }

  /** Resolves when `predicate(view)` holds (checked on every status change and event); rejects with a timeout naming `what`. */
  until(predicate: (view: FleetView) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate(this.view)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.view)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new MqttError("timeout", `timed out after ${timeoutMs} ms waiting for ${what}`, { what }));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off("change", check);
        this.off("event", check);
      };
      this.on("change", check);
      // A predicate may wait for an event too (a run's end), which can come after the last status change.
      this.on("event", check);
    });
  }

  readonly #onMessage = (message: InboundMessage): void => {
    this.#lastMessageAt = Date.now();
    const parsed = parseStatusTopic(this.#prefix, message.topic);
    if (!parsed) return;
    if (parsed.kind === "events") {
      try {
        this.emit("event", decodeEvent(message.payload, message.topic));
      } catch (error) {
        this.view.problems.push(error instanceof Error ? error.message : String(error));
      }
      return;
    }
    const applied = this.view.apply(message.topic, message.payload);
    if (applied) this.emit("change", applied);
  };
}

export interface SendCommandOptions {
  gateway: string;
  command: Uint8Array;
  prefix?: string;
  timeoutMs?: number;
  /** Defaults to a random UUID. */
  correlationId?: string;
}

/**
 * Sends a signed command and waits for its response. The command goes to
 * `{prefix}/{gw}/command/{id}` — the 3.1.1 form, which every gateway understands — and, on MQTT 5,
 * also carries Correlation Data and a Response Topic; either way the answer arrives on
 * `{prefix}/{gw}/command/response/{id}`.
 */
export async function sendCommand(
  connection: MqttConnection,
  opts: SendCommandOptions,
): Promise<WireCommandResponse> {
  const topics = gatewayTopics(opts.prefix ?? DEFAULT_PREFIX, opts.gateway);
  const correlationId = opts.correlationId ?? randomUUID();
  const responseTopic = topics.commandResponseFor(correlationId);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let onMessage: ((message: InboundMessage) => void) | undefined;
  const response = new Promise<WireCommandResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new MqttError(
          "timeout",
          `no response from gateway ${opts.gateway} within ${timeoutMs} ms (correlation id ${correlationId})`,
          {
            gateway: opts.gateway,
            correlationId,
          },
        ),
      );
    }, timeoutMs);
    onMessage = (message) => {
      if (message.topic !== responseTopic) return;
      clearTimeout(timer);
      try {
        resolve(decodeCommandResponse(message.payload, message.topic));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    connection.on("message", onMessage);
  });
  response.catch(() => {}); // a timeout while still publishing is reported by the await below
  try {
    await connection.subscribe([{ filter: responseTopic, qos: 1 }]);
    await connection.publishAndWait(topics.commandFor(correlationId), opts.command, {
      qos: 1,
      correlationData: new TextEncoder().encode(correlationId),
      responseTopic,
    });
    return await response;
  } finally {
    if (onMessage) connection.off("message", onMessage);
    await connection.unsubscribe([responseTopic]).catch(() => {});
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
