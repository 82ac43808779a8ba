/**
 * Clears what a module removed from the configuration left on the broker: its retained status, its
 * Home Assistant entity state and discovery configs. The broker hands every retained module status of
 * this gateway to the subscription made at connect; one that names no configured module is emptied
 * (a zero-length retained message deletes it, MQTT 5 §3.3.1.3). The subscription stays: a status
 * retained later by an older copy of the gateway is swept too. Our own status messages come back
 * through it (no No Local: brokers differ on whether No Local hides retained messages) and are ignored.
 */
import type { Logger } from "../../util/logger.js";
import type { InboundMessage, MqttConnection } from "../connection/connection.js";
import type { GatewayTopics } from "../contract/topics.js";
import { moduleRemoval, updateStateTopic, type DiscoveryNaming } from "./homeassistant/payloads.js";

export interface RetiredModulesOptions {
  connection: MqttConnection;
  topics: GatewayTopics;
  /** Modules in the configuration. */
  configured: readonly string[];
  /** Home Assistant discovery naming when it is on: its configs are removed too. */
  homeAssistant: DiscoveryNaming | null;
  logger: Logger;
}

export class RetiredModuleSweeper {
  readonly #opts: RetiredModulesOptions;
  readonly #configured: ReadonlySet<string>;
  readonly #filter: string;
  readonly #prefixLevel: string;
  readonly swept = new Set<string>();

  constructor(opts: RetiredModulesOptions) {
    this.#opts = opts;
    this.#configured = new Set(opts.configured);
    this.#prefixLevel = `${opts.topics.prefix}/${opts.topics.gateway}/modules/`;
    this.#filter = `${this.#prefixLevel}+/status`;
  }

  async start(): Promise<void> {
    this.#opts.connection.on("message", this.#onMessage);
    await this.#opts.connection.subscribe([{ filter: this.#filter, qos: 1 }]);
  }

  stop(): void {
    this.#opts.connection.off("message", this.#onMessage);
  }

  readonly #onMessage = (message: InboundMessage): void => {
    const { topic, payload } = message;
    if (payload.length === 0 || !topic.startsWith(this.#prefixLevel) || !topic.endsWith("/status")) return;
    const module = topic.slice(this.#prefixLevel.length, -"/status".length);
    if (module.includes("/") || this.#configured.has(module) || this.swept.has(module)) return;
    this.swept.add(module);
    const { connection, topics, homeAssistant, logger } = this.#opts;
    connection.setRetained(topic, "");
    connection.setRetained(updateStateTopic(topics, module), "");
    if (homeAssistant)
      for (const m of moduleRemoval(homeAssistant, module)) connection.setRetained(m.topic, m.payload);
    logger.info({ module, topic }, "module no longer configured: its retained status cleared");
  };
}
