/**
 * The gateway as a service: an update engine plus its MQTT side, started and stopped in the right
 * order. Used by `subflash daemon` (real or simulated modules) and by `subflash demo` (in-process).
 *
 * Start: listen to the engine → connect (online, subscribe; inbound messages wait) → start the
 * engine (it recovers from its journal and emits every module's status) → let messages through.
 * Stop: refuse new bundles and commands → stop the engine (it stops at a safe point) → wait for the
 * answers in flight → publish the final status and offline → disconnect.
 */
import { readFileSync } from "node:fs";
import { describeError } from "../../util/errors.js";
import { silentLogger } from "../../util/logger.js";
import type { Logger } from "../../util/logger.js";
import type { BackoffOptions } from "../connection/backoff.js";
import { GatewayBridge } from "./bridge.js";
import type { BridgeEngine } from "./bridge.js";
import { MqttConnection, redactUrl } from "../connection/connection.js";
import type { MqttTlsOptions, ProtocolVersion } from "../connection/connection.js";
import { DEFAULT_PREFIX, gatewayTopics, parseInboundTopic } from "../contract/topics.js";
import { DEFAULT_MAX_BUNDLE_BYTES } from "./bridge.js";
import { packageVersion } from "../../util/version.js";
import { HomeAssistantPublisher } from "./homeassistant/publisher.js";
import { RetiredModuleSweeper } from "./retired-modules.js";
import type { OnlinePayload } from "../contract/contract.js";

/** The engine as the service drives it (UpdateEngine satisfies it). */
export interface ServiceEngine extends BridgeEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The `mqtt` section of the gateway configuration (TLS entries are file paths). */
export interface ServiceMqttSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId?: string | undefined;
  prefix?: string | undefined;
  tls?:
    | {
        ca?: string | undefined;
        cert?: string | undefined;
        key?: string | undefined;
        rejectUnauthorized?: boolean | undefined;
      }
    | undefined;
  protocolVersion?: ProtocolVersion | undefined;
}

export interface GatewayServiceOptions {
  engine: ServiceEngine;
  gateway: { id: string; groups: readonly string[] };
  mqtt: ServiceMqttSettings;
  maxBundleBytes?: number;
  logger?: Logger;
  /** Reconnect delays (tests shorten them). */
  backoff?: BackoffOptions;
  statusIntervalMs?: number;
  progressIntervalMs?: number;
  /** Longest wait for answers in flight at stop, in ms. Default 10000. */
  drainTimeoutMs?: number;
  /**
   * The configured modules: retained topics of any other module of this gateway (one removed from the
   * configuration) are cleared at start. Omitted: nothing is cleared.
   */
  modules?: readonly string[];
  /** Home Assistant discovery (the config's `homeAssistant`); omitted or disabled: none. */
  homeAssistant?: { enabled: boolean; prefix: string } | undefined;
}

export interface GatewayService {
  readonly bridge: GatewayBridge;
  readonly connection: MqttConnection;
  readonly homeAssistant: HomeAssistantPublisher | null;
  readonly sweeper: RetiredModuleSweeper | null;
  /** Stops everything in order; safe to call twice. */
  stop(): Promise<void>;
}

export async function startGatewayService(opts: GatewayServiceOptions): Promise<GatewayService> {
  const log = (opts.logger ?? silentLogger).child({ component: "gateway-service" });
  const prefix = opts.mqtt.prefix ?? DEFAULT_PREFIX;
  const topics = gatewayTopics(prefix, opts.gateway.id);
  const connection = new MqttConnection({
    url: opts.mqtt.url,
    clientId: opts.mqtt.clientId ?? `subflash-${opts.gateway.id}`,
    ...(opts.mqtt.username !== undefined ? { username: opts.mqtt.username } : {}),
    ...(opts.mqtt.password !== undefined ? { password: opts.mqtt.password } : {}),
    ...(opts.mqtt.tls ? { tls: readTls(opts.mqtt.tls) } : {}),
    protocolVersion: opts.mqtt.protocolVersion ?? 5,
    will: { topic: topics.online, payload: "offline" satisfies OnlinePayload, retain: true },
    persistentSession: true,
    // Bundles are acked once journalled (bridge.ts); commands on receipt.
    holdAck: (topic) => parseInboundTopic(topics, opts.gateway.groups, topic).kind === "update",
    // The broker drops what we could not accept anyway, before it reaches our memory (defect 5).
    maximumPacketSize: maximumPacketSize(opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  // Commands on a session of their own, so no bundle queued at the broker delays them (defect 6).
  // No will: `online` belongs to the main session.
  const commandConnection = new MqttConnection({
    url: opts.mqtt.url,
    clientId: `${opts.mqtt.clientId ?? `subflash-${opts.gateway.id}`}-commands`,
    ...(opts.mqtt.username !== undefined ? { username: opts.mqtt.username } : {}),
    ...(opts.mqtt.password !== undefined ? { password: opts.mqtt.password } : {}),
    ...(opts.mqtt.tls ? { tls: readTls(opts.mqtt.tls) } : {}),
    protocolVersion: opts.mqtt.protocolVersion ?? 5,
    persistentSession: true,
    maximumPacketSize: maximumPacketSize(opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.logger ? { logger: opts.logger.child({ session: "commands" }) } : {}),
  });
  const bridge = new GatewayBridge({
    engine: opts.engine,
    connection,
    commandConnection,
    gateway: opts.gateway,
    prefix,
    ...(opts.maxBundleBytes !== undefined ? { maxBundleBytes: opts.maxBundleBytes } : {}),
    ...(opts.statusIntervalMs !== undefined ? { statusIntervalMs: opts.statusIntervalMs } : {}),
    ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });

  const ha = opts.homeAssistant?.enabled ? { haPrefix: opts.homeAssistant.prefix, topics } : null;
  const sweeper = opts.modules
    ? new RetiredModuleSweeper({
        connection,
        topics,
        configured: opts.modules,
        homeAssistant: ha,
        logger: log,
      })
    : null;
  const homeAssistant = ha
    ? new HomeAssistantPublisher({
        engine: opts.engine,
        connection,
        topics,
        haPrefix: ha.haPrefix,
        swVersion: packageVersion(),
        logger: log,
      })
    : null;

  bridge.attach();
  log.info({ broker: redactUrl(opts.mqtt.url), prefix, gateway: opts.gateway.id }, "starting");
  await sweeper?.start();
  await bridge.connect();
  try {
    await opts.engine.start();
  } catch (error) {
    // Fail closed: online = false and a closed connection, so the process can exit (issue 10, defect 1).
    log.error({ err: describeError(error) }, "engine failed to start");
    await bridge.abort();
    throw error;
  }
  bridge.ready();
  await homeAssistant?.start();
  log.info({ modules: opts.engine.moduleStatuses().length }, "gateway ready");

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({}, "stopping");
      bridge.stopAccepting();
      await opts.engine.stop();
      const drained = await Promise.race([
        bridge.idle().then(() => true),
        new Promise<false>((resolve) =>
          setTimeout(() => resolve(false), opts.drainTimeoutMs ?? 10_000).unref(),
        ),
      ]);
      if (!drained) log.warn({}, "some bundle or command answers were still pending at stop");
      homeAssistant?.stop();
      sweeper?.stop();
      await bridge.stop();
      log.info({}, "stopped");
    })();
    return stopping;
  };
  return { bridge, connection, homeAssistant, sweeper, stop };
}

function readTls(tls: NonNullable<ServiceMqttSettings["tls"]>): MqttTlsOptions {
  return {
    ...(tls.ca ? { ca: readFileSync(tls.ca, "utf8") } : {}),
    ...(tls.cert ? { cert: readFileSync(tls.cert, "utf8") } : {}),
    ...(tls.key ? { key: readFileSync(tls.key, "utf8") } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
  };
}

/**
 * Maximum Packet Size for a bundle limit: the payload plus the PUBLISH fixed header (5 bytes),
 * topic (2 + up to 64 KiB) and properties (MQTT 5 §3.3.2.3: a few dozen bytes; user properties are
 * bounded by the same slack). Also bounds command packets, which are far smaller. Capped at the
 * protocol's largest packet (268,435,460 bytes, MQTT 5 §2.1.4).
 */
export function maximumPacketSize(maxBundleBytes: number): number {
  return Math.min(maxBundleBytes + PUBLISH_HEADER_SLACK, 268_435_460);
}

const PUBLISH_HEADER_SLACK = 70 * 1024;
