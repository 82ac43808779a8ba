/**
 * Everything the demo needs on one machine, with no broker installed and no hardware: an embedded
 * MQTT broker (or a given one), a release key and trust store in a temporary directory, the demo
 * fleet's simulated modules, the real update engine with its MQTT side (in-process), and an operator
 * connection that sees only what is on the broker.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../gateway/index.js";
import type { GatewayConfig } from "../../gateway/index.js";
import { UpdateEngine } from "../../gateway/index.js";
import { startEmbeddedBroker } from "../../mqtt/broker/index.js";
import type { EmbeddedBroker } from "../../mqtt/broker/index.js";
import type { MqttConnection } from "../../mqtt/operator/index.js";
import { connectOperator, FleetWatcher } from "../../mqtt/operator/index.js";
import { startGatewayService } from "../../mqtt/gateway/index.js";
import type { GatewayService } from "../../mqtt/gateway/index.js";
import { createSigningKey } from "../../signing/index.js";
import type { SigningKey } from "../../signing/index.js";
import { silentLogger } from "../../util/logger.js";
import type { Logger } from "../../util/logger.js";
import { DEMO_MODULES, fleetConfig } from "./fleet.js";
import type { FleetModule } from "./fleet.js";
import { createSimModules } from "./sim-modules.js";
import type { SimModules } from "./sim-modules.js";

export interface WorldOptions {
  gateway?: string;
  groups?: string[];
  /** Broker URL; default: start an embedded aedes broker on a free loopback port. */
  broker?: string;
  prefix?: string;
  /** Simulated wire and flash time. Default true. */
  timing?: boolean;
  baud?: number;
  modules?: readonly FleetModule[];
  sharedLine?: boolean;
  /** Factory firmware size per module, bytes. */
  factorySize?: number;
  /** Home Assistant discovery under this prefix (off by default in a world: tests share brokers). */
  homeAssistantPrefix?: string;
  logger?: Logger;
}

export interface World {
  readonly dir: string;
  readonly brokerUrl: string;
  /** Null when an external broker was given. */
  readonly broker: EmbeddedBroker | null;
  readonly prefix: string;
  readonly gateway: string;
  readonly key: SigningKey;
  readonly config: GatewayConfig;
  readonly modules: SimModules;
  readonly engine: UpdateEngine;
  readonly service: GatewayService;
  readonly operator: MqttConnection;
  readonly watcher: FleetWatcher;
  close(): Promise<void>;
}

export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "subflash-demo-"));
  const gateway = opts.gateway ?? "demo-gw";
  const prefix = opts.prefix ?? "subflash";
  const logger = opts.logger ?? silentLogger;
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (error) {
        logger.warn({ err: String(error) }, "demo clean-up step failed");
      }
    }
  };
  try {
    const broker = opts.broker === undefined ? await startEmbeddedBroker() : null;
    if (broker) cleanups.push(() => broker.close());
    const brokerUrl = opts.broker ?? broker!.url;
    const key = createSigningKey({ label: "demo release key" });
    const raw = fleetConfig({
      gateway,
      groups: opts.groups ?? ["demo"],
      dir,
      key,
      mqtt: { url: brokerUrl, prefix },
      ...(opts.baud !== undefined ? { baud: opts.baud } : {}),
      ...(opts.modules ? { modules: opts.modules } : {}),
      ...(opts.sharedLine ? { sharedLine: true } : {}),
    });
    const config = parseConfig(raw, { file: "demo gateway config", baseDir: dir });
    const fleet = opts.modules ?? DEMO_MODULES;
    const modules = createSimModules(config, (m) => {
      const bootloaderVersion = fleet.find((f) => f.id === m.id)?.bootloaderVersion;
      return {
        timing: opts.timing ?? true,
        factory: { version: "1.0.0", ...(opts.factorySize !== undefined ? { size: opts.factorySize } : {}) },
        ...(bootloaderVersion !== undefined ? { bootloaderVersion } : {}),
      };
    });
    cleanups.push(() => modules.close());
    const engine = new UpdateEngine({ config, targets: modules.targets, logger });
    const service = await startGatewayService({
      engine,
      gateway: config.gateway,
      mqtt: { url: brokerUrl, prefix },
      logger,
      backoff: { initialMs: 200, maxMs: 2000 },
      modules: config.modules.map((m) => m.id),
      ...(opts.homeAssistantPrefix !== undefined
        ? { homeAssistant: { enabled: true, prefix: opts.homeAssistantPrefix } }
        : {}),
    });
    cleanups.push(() => service.stop());
    const operator = await connectOperator({
      broker: brokerUrl,
      clientId: `subflash-demo-operator-${process.pid}`,
    });
    cleanups.push(() => operator.stop());
    const watcher = new FleetWatcher(operator, { prefix, gateway, events: true });
    await watcher.start();
    cleanups.push(() => watcher.stop());
    // The gateway published every module's retained status at start; wait until the operator sees them.
    await watcher.until(
      (view) =>
        (view.gateway(gateway)?.modules.size ?? 0) === config.modules.length &&
        view.gateway(gateway)?.online === true,
      10_000,
      "the gateway's retained status",
    );
    return {
      dir,
      brokerUrl,
      broker,
      prefix,
      gateway,
      key,
      config,
      modules,
      engine,
      service,
      operator,
      watcher,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export { DEMO_MODULES };
