/**
 * Publishes Home Assistant discovery for one gateway and keeps each module's update entity state
 * current. Discovery goes out (retained) at start and again whenever Home Assistant announces itself
 * (its birth message: `{haPrefix}/status` = "online"), as its MQTT docs ask of integrations.
 *
 * The update entity's `latest_version` is the newest release this gateway has been offered and
 * accepted (the target of a bundle or retry), or the installed one: after a failed or rolled-back
 * update Home Assistant keeps showing the newer release as available. The gateway remembers it while
 * it runs; after a restart it starts again from the installed version.
 */
import type { GatewayStatus, ModuleStatus } from "../../../gateway/index.js";
import type { Logger } from "../../../util/logger.js";
import type { InboundMessage, MqttConnection } from "../../connection/connection.js";
import type { GatewayTopics } from "../../contract/topics.js";
import {
  gatewayDiscovery,
  isInProgress,
  moduleDiscovery,
  newerVersion,
  updateEntityState,
  updateStateTopic,
  type DiscoveryNaming,
} from "./payloads.js";

export interface HomeAssistantEngine {
  on(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  on(event: "gateway-status", listener: (status: GatewayStatus) => void): unknown;
  off(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  off(event: "gateway-status", listener: (status: GatewayStatus) => void): unknown;
  moduleStatuses(): ModuleStatus[];
  gatewayStatus(): GatewayStatus;
}

export interface HomeAssistantOptions {
  engine: HomeAssistantEngine;
  connection: MqttConnection;
  topics: GatewayTopics;
  haPrefix: string;
  swVersion: string;
  logger: Logger;
}

export class HomeAssistantPublisher {
  readonly #opts: HomeAssistantOptions;
  readonly #naming: DiscoveryNaming;
  readonly #latest = new Map<string, string | null>();
  readonly #percent = new Map<string, number | null>();
  readonly #lastState = new Map<string, string>();
  readonly #undoing = new Map<string, boolean>();
  readonly #birthTopic: string;
  #gateway: Pick<GatewayStatus, "lastRun"> = { lastRun: null };

  constructor(opts: HomeAssistantOptions) {
    this.#opts = opts;
    this.#naming = { haPrefix: opts.haPrefix, topics: opts.topics };
    this.#birthTopic = `${opts.haPrefix}/status`;
  }

  /** Listens to the engine and to Home Assistant's birth message; publishes everything once. */
  async start(): Promise<void> {
    this.#opts.engine.on("module-status", this.#onModule);
    this.#opts.engine.on("gateway-status", this.#onGateway);
    this.#opts.connection.on("message", this.#onMessage);
    this.#gateway = this.#opts.engine.gatewayStatus();
    this.publishAll();
    await this.#opts.connection.subscribe([{ filter: this.#birthTopic, qos: 1 }]);
  }

  stop(): void {
    this.#opts.engine.off("module-status", this.#onModule);
    this.#opts.engine.off("gateway-status", this.#onGateway);
    this.#opts.connection.off("message", this.#onMessage);
  }

  /** Every discovery config and every entity state, retained. */
  publishAll(): void {
    const { connection, swVersion } = this.#opts;
    for (const m of gatewayDiscovery(this.#naming, swVersion)) connection.setRetained(m.topic, m.payload);
    for (const status of this.#opts.engine.moduleStatuses()) {
      for (const m of moduleDiscovery(this.#naming, status, swVersion))
        connection.setRetained(m.topic, m.payload);
      this.#lastState.delete(status.module);
      this.#publishState(status);
    }
  }

  readonly #onMessage = (message: InboundMessage): void => {
    if (message.topic !== this.#birthTopic) return;
    const text = new TextDecoder().decode(message.payload).trim();
    if (text !== "online") return;
    this.#opts.logger.info({ topic: message.topic }, "Home Assistant is online: discovery published again");
    this.publishAll();
  };

  readonly #onGateway = (status: GatewayStatus): void => {
    const before = this.#gateway.lastRun?.notes;
    this.#gateway = status;
    if (status.lastRun?.notes !== before)
      for (const module of this.#opts.engine.moduleStatuses()) this.#publishState(module);
  };

  readonly #onModule = (status: ModuleStatus): void => {
    const id = status.module;
    // A target that is not older than what runs is an offered and accepted release (a rollback's
    // target is older, and newerVersion keeps the newer one).
    if (status.targetVersion && status.state !== "rolling-back")
      this.#latest.set(id, newerVersion(this.#latest.get(id) ?? null, status.targetVersion));
    // The gateway's bar never goes down within a run; a rollback starts its own (status/progress.ts),
    // and so does the percentage shown here. Between phases without progress it holds its value.
    const undoing = status.state === "rolling-back";
    if (!isInProgress(status) || undoing !== (this.#undoing.get(id) ?? false)) this.#percent.delete(id);
    this.#undoing.set(id, undoing);
    if (isInProgress(status) && status.progress)
      this.#percent.set(id, Math.max(this.#percent.get(id) ?? 0, status.progress.percent));
    this.#publishState(status);
  };

  #publishState(status: ModuleStatus): void {
    const id = status.module;
    const state = updateEntityState(
      status,
      this.#latest.get(id) ?? null,
      this.#percent.get(id) ?? null,
      this.#gateway,
    );
    const payload = JSON.stringify(state);
    if (this.#lastState.get(id) === payload) return;
    this.#lastState.set(id, payload);
    this.#opts.connection.setRetained(updateStateTopic(this.#opts.topics, id), payload);
  }
}
