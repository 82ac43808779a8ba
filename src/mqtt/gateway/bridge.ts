/**
 * The gateway's MQTT side: turns the update engine's status and events into the retained and
 * transient messages of the contract, and hands incoming bundles and commands to the engine.
 * It owns no update logic: what a bundle or command does, and whether it is accepted, is the
 * engine's call; this file only decides what goes on which topic, when, and how often.
 *
 * - Retained status: a module's status goes out at once when its state changes, and at most every
 *   `statusIntervalMs` while only its progress moves (the last value is never lost). Offline, the
 *   connection keeps only the latest value per topic and publishes it on reconnect.
 * - Events: every module state change, plus progress at most every `progressIntervalMs` per module,
 *   plus whatever the engine reports; dropped while the broker is away (the retained status is the
 *   record, events are the stream).
 * - Bundles over `maxBundleBytes` are dropped before decoding, with a `bundle-too-large` event.
 * - Echoes: our own topics are recognised and ignored (and on MQTT 5 not even delivered: No Local).
 */
import { describeError } from "../../util/errors.js";
import { silentLogger } from "../../util/logger.js";
import type { Logger } from "../../util/logger.js";
import type {
  BundleOutcome,
  CommandOutcome,
  GatewayEvent,
  GatewayInventory,
  GatewayStatus,
  ModuleStatus,
} from "../../gateway/index.js";
import { Coalescer } from "./coalescer.js";
import type { MqttConnection, InboundMessage } from "../connection/connection.js";
import { correlationText } from "../contract/contract.js";
import type {
  BundleTooLargeEvent,
  CommandResponse,
  EventEnvelope,
  OnlinePayload,
} from "../contract/contract.js";
import { commandResponse } from "./outcomes.js";
import { gatewayTopics, parseInboundTopic } from "../contract/topics.js";
import type { GatewayTopics } from "../contract/topics.js";

/** What the bridge needs from the update engine (UpdateEngine satisfies it). */
export interface BridgeEngineEvents {
  "module-status": [ModuleStatus];
  "gateway-status": [GatewayStatus];
  event: [GatewayEvent];
}

export interface BridgeEngine {
  on<K extends keyof BridgeEngineEvents>(
    event: K,
    listener: (...args: BridgeEngineEvents[K]) => void,
  ): unknown;
  off<K extends keyof BridgeEngineEvents>(
    event: K,
    listener: (...args: BridgeEngineEvents[K]) => void,
  ): unknown;
  submitBundle(bytes: Uint8Array, via: { topic?: string }): Promise<BundleOutcome>;
  submitCommand(bytes: Uint8Array): Promise<CommandOutcome>;
  moduleStatuses(): ModuleStatus[];
  gatewayStatus(): GatewayStatus;
  /** The retained inventory; engines without one publish none. */
  inventory?(): GatewayInventory;
}

export interface BridgeOptions {
  engine: BridgeEngine;
  connection: MqttConnection;
  /**
   * A second session for signed commands (issue 10, defect 6). A broker delivers one session's
   * messages in order, so on the bundle session a cancel would wait behind every bundle queued
   * before it; on its own session it is delivered at once. Default: the main connection.
   */
  commandConnection?: MqttConnection;
  gateway: { id: string; groups: readonly string[] };
  /** Topic prefix; default "subflash". */
  prefix?: string;
  /** Largest bundle accepted, in bytes. Default 16 MiB. */
  maxBundleBytes?: number;
  /** Least time between two retained status messages of one module while only progress changes. Default 500 ms. */
  statusIntervalMs?: number;
  /** Least time between two progress events of one module. Default 1000 ms. */
  progressIntervalMs?: number;
  logger?: Logger;
  now?: () => number;
}

export const DEFAULT_MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export class GatewayBridge {
  readonly topics: GatewayTopics;
  readonly #engine: BridgeEngine;
  readonly #connection: MqttConnection;
  readonly #commands: MqttConnection;
  readonly #groups: readonly string[];
  readonly #maxBundleBytes: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #statusOut: Coalescer<ModuleStatus>;
  readonly #progressOut: Coalescer<EventEnvelope>;
  readonly #inventoryOut: Coalescer<string>;
  #lastInventory = "";
  readonly #lastState = new Map<string, ModuleStatus["state"]>();
  readonly #inFlight = new Set<Promise<void>>();
  #accepting = false;
  #online = false;
  #attached = false;
  #markReady!: () => void;
  readonly #ready = new Promise<void>((resolve) => {
    this.#markReady = resolve;
  });

  constructor(opts: BridgeOptions) {
    this.topics = gatewayTopics(opts.prefix ?? "subflash", opts.gateway.id);
    for (const group of opts.gateway.groups) this.topics.groupUpdate(group); // validates the names early
    this.#engine = opts.engine;
    this.#connection = opts.connection;
    this.#commands = opts.commandConnection ?? opts.connection;
    this.#groups = opts.gateway.groups;
    this.#maxBundleBytes = opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    this.#log = (opts.logger ?? silentLogger).child({ component: "mqtt-bridge", gateway: opts.gateway.id });
    this.#now = opts.now ?? Date.now;
    this.#statusOut = new Coalescer(
      opts.statusIntervalMs ?? 500,
      (module, status) =>
        this.#connection.setRetained(this.topics.moduleStatus(module), JSON.stringify(status)),
      this.#now,
    );
    this.#progressOut = new Coalescer(
      opts.progressIntervalMs ?? 1000,
      (_module, event) => this.#publishEvent(event),
      this.#now,
    );
    // The inventory follows module states; during a run they change often, so at most one a second.
    this.#inventoryOut = new Coalescer(
      opts.statusIntervalMs === undefined ? 1000 : Math.max(opts.statusIntervalMs, 1000),
      (_key, json) => this.#connection.setRetained(this.topics.inventory, json),
      this.#now,
    );
  }

  /**
   * Listens to the engine. Call before `engine.start()`, so the statuses the engine emits while it
   * recovers from its journal are not missed.
   */
  attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.#engine.on("module-status", this.#onModuleStatus);
    this.#engine.on("gateway-status", this.#onGatewayStatus);
    this.#engine.on("event", this.#onEngineEvent);
    this.#connection.on("message", this.#onMessage);
    if (this.#commands !== this.#connection) this.#commands.on("message", this.#onMessage);
  }

  /**
   * Marks the gateway online, subscribes to its inbound topics and starts the connection. Bundles
   * and commands that arrive before {@link ready} wait for it.
   */
  async connect(): Promise<void> {
    this.attach();
    this.#online = true;
    this.#connection.setRetained(this.topics.online, "online" satisfies OnlinePayload);
    this.#accepting = true;
    this.#connection.start();
    const commandFilters = [
      { filter: this.topics.command, qos: 1 as const, noLocal: true },
      { filter: this.topics.commandWithIdFilter, qos: 1 as const, noLocal: true },
    ];
    const separate = this.#commands !== this.#connection;
    if (separate) this.#commands.start();
    await this.#connection.subscribe([
      { filter: this.topics.update, qos: 1, noLocal: true },
      ...this.#groups.map((g) => ({ filter: this.topics.groupUpdate(g), qos: 1 as const, noLocal: true })),
      ...(separate ? [] : commandFilters),
    ]);
    if (separate) await this.#commands.subscribe(commandFilters);
  }

  /**
   * The engine has started: publishes its current status of every module and of the gateway (so a
   * restarted gateway republishes everything at once) and lets waiting messages through.
   */
  ready(): void {
    for (const status of this.#engine.moduleStatuses()) this.#onModuleStatus(status);
    this.#onGatewayStatus(this.#engine.gatewayStatus());
    this.#publishInventory(true);
    this.#markReady();
  }

  /** attach + connect + ready, for an engine that has already started. */
  async start(): Promise<void> {
    this.attach();
    await this.connect();
    this.ready();
  }

  /** Stops handing new bundles and commands to the engine (first step of a shutdown). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Resolves when every bundle and command handed to the engine has been answered. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Final step of a shutdown (after the engine stopped): sends the latest status of every module,
   * the gateway status with online = false, and online = "offline", then disconnects.
   */
  async stop(): Promise<void> {
    this.#detach();
    this.#statusOut.flush();
    this.#publishInventory(true);
    this.#inventoryOut.flush();
    this.#online = false;
    const finalStatus = { ...this.#engine.gatewayStatus(), online: false };
    if (this.#commands !== this.#connection) await this.#commands.stop();
    await this.#connection.stop([
      [this.topics.status, JSON.stringify(finalStatus)],
      [this.topics.online, "offline" satisfies OnlinePayload],
    ]);
  }

  /** Stops taking work: releases waiting messages (they see !accepting) and unhooks from engine and broker. */
  #detach(): void {
    this.#accepting = false;
    this.#markReady();
    this.#engine.off("module-status", this.#onModuleStatus);
    this.#engine.off("gateway-status", this.#onGatewayStatus);
    this.#engine.off("event", this.#onEngineEvent);
    this.#connection.off("message", this.#onMessage);
    this.#commands.off("message", this.#onMessage);
    this.#progressOut.dispose();
  }

  /**
   * The engine failed to start (issue 10, defect 1): there is no status to publish. Waits briefly
   * for the broker (the connection may still be coming up), publishes online = "offline" so nobody
   * goes on seeing the gateway as up, and disconnects. Without a broker the last will (or the
   * previous run's) says it.
   */
  async abort(waitMs = 3000): Promise<void> {
    this.#detach();
    this.#online = false;
    if (this.#commands !== this.#connection) await this.#commands.stop();
    await this.#connection.waitConnected(waitMs).catch(() => undefined);
    await this.#connection.stop([[this.topics.online, "offline" satisfies OnlinePayload]]);
  }

  readonly #onModuleStatus = (status: ModuleStatus): void => {
    const changed = this.#lastState.get(status.module) !== status.state;
    this.#lastState.set(status.module, status.state);
    this.#statusOut.submit(status.module, status, changed);
    if (changed) this.#publishInventory(false);
  };

  readonly #onGatewayStatus = (status: GatewayStatus): void => {
    // The inventory goes out first and at once: a campaign controller that reads a bundle's outcome
    // from this status takes the failed modules from the inventory, and the broker keeps one
    // client's messages in order (MQTT 3.1.1 §4.6), so it never pairs the outcome with a stale one.
    this.#publishInventory(true);
    this.#connection.setRetained(this.topics.status, JSON.stringify({ ...status, online: this.#online }));
  };

  /** Publishes the inventory when it changed (ignoring its time stamp); `urgent` also sends a pending one now. */
  #publishInventory(urgent: boolean): void {
    const inventory = this.#engine.inventory?.();
    if (!inventory) return;
    const key = JSON.stringify({ ...inventory, updatedAt: "" });
    if (key === this.#lastInventory) {
      if (urgent) this.#inventoryOut.flush();
      return;
    }
    this.#lastInventory = key;
    this.#inventoryOut.submit("inventory", JSON.stringify(inventory), urgent);
  }

  /**
   * Engine events go out as they are, with the gateway id added. Progress is limited per module
   * (`progressIntervalMs`); a transition drops the module's pending progress so that a late tick
   * never follows the state change it predates.
   */
  readonly #onEngineEvent = (event: GatewayEvent): void => {
    const wire: EventEnvelope = { ...event, gateway: this.topics.gateway };
    if (event.type === "progress" && event.module !== undefined) {
      this.#progressOut.submit(event.module, wire);
      return;
    }
    if (event.type === "transition" && event.module !== undefined) this.#progressOut.drop(event.module);
    this.#publishEvent(wire);
  };

  readonly #onMessage = (message: InboundMessage): void => {
    const inbound = parseInboundTopic(this.topics, this.#groups, message.topic);
    switch (inbound.kind) {
      case "own":
        return; // an echo of something we published, through an overlapping filter
      case "unknown":
        this.#log.debug({ topic: message.topic }, "message on an unexpected topic ignored");
        return;
      case "update":
        this.#track(this.#handleBundle(message));
        return;
      case "command":
        this.#track(this.#handleCommand(message, inbound.correlationId));
        return;
    }
  };

  /**
   * A bundle's PUBACK goes out only once the engine has answered: accepted means journalled, refused
   * means the refusal is published (issue 10, defect 4). A bundle left unanswered because the
   * gateway is stopping is not acked: the broker redelivers it to the next start.
   */
  async #handleBundle(message: InboundMessage): Promise<void> {
    const answered = await this.#answerBundle(message);
    if (answered) message.ack();
  }

  async #answerBundle(message: InboundMessage): Promise<boolean> {
    const { topic, payload } = message;
    // A zero-length retained message is how an operator deletes a retained bundle: not a bundle.
    if (payload.length === 0) return true;
    if (!this.#accepting) {
      this.#log.warn({ topic }, "bundle left for the next start: the gateway is shutting down");
      return false;
    }
    if (payload.length > this.#maxBundleBytes) {
      this.#log.warn(
        { topic, bytes: payload.length, limit: this.#maxBundleBytes },
        "bundle too large; dropped",
      );
      const event: BundleTooLargeEvent = {
        ...this.#envelope("bundle-too-large"),
        type: "bundle-too-large",
        topic,
        bytes: payload.length,
        limit: this.#maxBundleBytes,
      };
      this.#publishEvent(event);
      return true;
    }
    this.#log.info({ topic, bytes: payload.length, retained: message.retain }, "bundle received");
    await this.#ready;
    if (!this.#accepting) return false;
    try {
      const outcome = await this.#engine.submitBundle(payload, { topic });
      this.#log.info({ topic, outcome: summarise(outcome) }, "bundle handled");
    } catch (error) {
      this.#log.error({ topic, err: describeError(error) }, "bundle handling failed");
    }
    return true;
  }

  async #handleCommand(message: InboundMessage, topicCorrelation: string | null): Promise<void> {
    const correlationId = message.correlationData
      ? correlationText(message.correlationData)
      : topicCorrelation;
    const correlationData =
      message.correlationData ??
      (topicCorrelation !== null ? new TextEncoder().encode(topicCorrelation) : undefined);
    const responseTopic = this.#responseTopic(message.responseTopic, topicCorrelation);
    let response: CommandResponse;
    await this.#ready;
    if (!this.#accepting) {
      response = commandResponse(this.topics.gateway, correlationId, {
        error: { code: "shutting-down", message: `gateway ${this.topics.gateway} is shutting down` },
      });
    } else {
      try {
        const outcome = await this.#engine.submitCommand(message.payload);
        response = commandResponse(this.topics.gateway, correlationId, { outcome });
      } catch (error) {
        this.#log.error({ err: describeError(error), correlationId }, "command handling failed");
        response = commandResponse(this.topics.gateway, correlationId, {
          error: { code: "internal", message: describeError(error) },
        });
      }
    }
    this.#log.info(
      { correlationId, status: response.status, code: response.error?.code },
      "command answered",
    );
    this.#commands.publish(responseTopic, JSON.stringify(response), {
      qos: 1,
      queue: true,
      ...(correlationData ? { correlationData } : {}),
    });
  }

  /**
   * Where to answer. An MQTT 5 Response Topic is honoured only under our own
   * `{prefix}/{gw}/command/response` subtree: the gateway never publishes where a command's sender
   * points it outside its own topics (see docs/security.md).
   */
  #responseTopic(requested: string | null, topicCorrelation: string | null): string {
    const own = this.topics.commandResponse;
    if (requested !== null) {
      if (requested === own || requested.startsWith(`${own}/`)) return requested;
      this.#log.warn(
        { requested, used: own },
        "response topic outside the gateway's response subtree; using the default",
      );
    }
    if (topicCorrelation === null) return own;
    try {
      return this.topics.commandResponseFor(topicCorrelation);
    } catch {
      // e.g. a correlation id over 128 characters: answer on the shared response topic instead
      return own;
    }
  }

  #publishEvent(event: EventEnvelope): void {
    this.#connection.publish(this.topics.events, JSON.stringify(event), { qos: 0 });
  }

  #envelope(type: string): EventEnvelope {
    return { type, gateway: this.topics.gateway, at: new Date(this.#now()).toISOString() };
  }

  #track(work: Promise<void>): void {
    const settled = work.catch((error: unknown) =>
      this.#log.error({ err: describeError(error) }, "message handling failed"),
    );
    this.#inFlight.add(settled);
    void settled.finally(() => this.#inFlight.delete(settled));
  }
}

function summarise(outcome: BundleOutcome): object {
  return outcome.ok
    ? { ok: true, release: outcome.release, sequence: outcome.sequence }
    : { ok: false, code: outcome.code, release: outcome.release, sequence: outcome.sequence };
}
