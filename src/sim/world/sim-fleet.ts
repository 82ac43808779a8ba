/**
 * A fleet of simulated gateways in one process, for tests, demos and benchmarks of campaigns: each
 * gateway is the full update engine with its own MQTT connection, state directory and simulated
 * modules (the demo product by default), with simulated timing off unless asked. Failures can be
 * injected per gateway: new firmware that hangs (fails its health check), a gateway that is offline,
 * a slow link (timing on at a low baud rate).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, UpdateEngine } from "../../gateway/index.js";
import type { GatewayConfig } from "../../gateway/index.js";
import { startGatewayService } from "../../mqtt/gateway/index.js";
import type { GatewayService } from "../../mqtt/gateway/index.js";
import { createSigningKey } from "../../signing/index.js";
import type { SigningKey } from "../../signing/index.js";
import { silentLogger } from "../../util/logger.js";
import type { Logger } from "../../util/logger.js";
import { DEMO_FLEET, fleetConfig } from "./fleet.js";
import type { FleetModule } from "./fleet.js";
import { createSimModules } from "./sim-modules.js";
import type { SimModules } from "./sim-modules.js";

export interface SimGatewayFailure {
  /** New firmware never answers the health probe: on every module (true) or on these module ids. */
  healthFail?: true | readonly string[];
  /** The gateway publishes its inventory, then goes offline (bring it back with `online(id)`). */
  offline?: boolean;
  /** Simulated wire and flash time at this baud rate. */
  slowLink?: { baud: number };
}

export interface SimFleetOptions {
  gateways: number;
  broker: string;
  prefix?: string;
  /** The release key the gateways trust; default: a new one (see `SimFleet.key`). */
  key?: SigningKey;
  /** Gateway id of index i (0-based); default gw-001, gw-002… */
  id?: (index: number) => string;
  /** Groups of a gateway; default ["fleet"]. */
  groups?: (index: number, id: string) => string[];
  modules?: readonly FleetModule[];
  failures?: (id: string, index: number) => SimGatewayFailure | undefined;
  /** Simulated wire and flash time for every gateway. Default false. */
  timing?: boolean;
  /** Where the state directories go; default a new temporary directory (removed at stop). */
  dir?: string;
  /** Gateways started at once. Default 20. */
  concurrency?: number;
  logger?: Logger;
}

export interface SimGateway {
  readonly id: string;
  readonly groups: string[];
  readonly config: GatewayConfig;
  readonly modules: SimModules;
  engine: UpdateEngine | null;
  service: GatewayService | null;
}

export interface SimFleet {
  readonly key: SigningKey;
  readonly dir: string;
  readonly gateways: ReadonlyMap<string, SimGateway>;
  readonly modules: readonly FleetModule[];
  /** Starts a gateway that is offline (its state and modules are kept). */
  online(id: string): Promise<void>;
  /** Stops a gateway's engine and MQTT side, as a power cut of the gateway would (modules kept). */
  offline(id: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimFleet(opts: SimFleetOptions): Promise<SimFleet> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "subflash-fleet-"));
  const key = opts.key ?? createSigningKey({ label: "fleet release key" });
  const modules = opts.modules ?? DEMO_FLEET;
  const prefix = opts.prefix ?? "subflash";
  const logger = opts.logger ?? silentLogger;
  const tag = randomUUID().slice(0, 6);
  const gateways = new Map<string, SimGateway>();

  const start = async (gw: SimGateway): Promise<void> => {
    if (gw.service) return;
    const engine = new UpdateEngine({ config: gw.config, targets: gw.modules.targets, logger });
    const service = await startGatewayService({
      engine,
      gateway: gw.config.gateway,
      mqtt: { url: opts.broker, prefix, clientId: `sf-${tag}-${gw.id}` },
      logger,
      backoff: { initialMs: 200, maxMs: 2000 },
    });
    gw.engine = engine;
    gw.service = service;
  };
  const stopOne = async (gw: SimGateway): Promise<void> => {
    const service = gw.service;
    gw.service = null;
    gw.engine = null;
    await service?.stop();
  };

  const ids = Array.from(
    { length: opts.gateways },
    (_, i) => opts.id?.(i) ?? `gw-${String(i + 1).padStart(3, "0")}`,
  );
  const failures = new Map(ids.map((id, i) => [id, opts.failures?.(id, i)]));
  for (const [i, id] of ids.entries()) {
    const failure = failures.get(id);
    const gwDir = join(dir, id);
    mkdirSync(gwDir, { recursive: true });
    const groups = opts.groups?.(i, id) ?? ["fleet"];
    const slow = failure?.slowLink;
    const raw = fleetConfig({
      gateway: id,
      groups,
      dir: gwDir,
      key,
      modules,
      ...(slow ? { baud: slow.baud } : {}),
    });
    const config = parseConfig(raw, { file: `${id} config`, baseDir: gwDir });
    const failing = failure?.healthFail;
    const sims = createSimModules(config, (m) => {
      const bootloaderVersion = modules.find((f) => f.id === m.id)?.bootloaderVersion;
      const hangs = failing === true || (failing?.includes(m.id) ?? false);
      return {
        timing: slow !== undefined || (opts.timing ?? false),
        factory: { version: "1.0.0" },
        ...(bootloaderVersion !== undefined ? { bootloaderVersion } : {}),
        ...(hangs ? { hangs: (version: string) => version !== "1.0.0" } : {}),
      };
    });
    gateways.set(id, { id, groups, config, modules: sims, engine: null, service: null });
  }

  const all = [...gateways.values()];
  const concurrency = opts.concurrency ?? 20;
  try {
    for (let i = 0; i < all.length; i += concurrency)
      await Promise.all(all.slice(i, i + concurrency).map((gw) => start(gw)));
    // Offline gateways have been seen once (their retained inventory stays), then drop off.
    for (const gw of all) if (failures.get(gw.id)?.offline) await stopOne(gw);
  } catch (error) {
    await Promise.allSettled(all.map(stopOne));
    throw error;
  }

  return {
    key,
    dir,
    gateways,
    modules,
    online: (id) => start(must(gateways, id)),
    offline: (id) => stopOne(must(gateways, id)),
    stop: async () => {
      for (let i = 0; i < all.length; i += concurrency)
        await Promise.allSettled(all.slice(i, i + concurrency).map(stopOne));
      for (const gw of all) await gw.modules.close();
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function must(gateways: ReadonlyMap<string, SimGateway>, id: string): SimGateway {
  const gw = gateways.get(id);
  if (!gw) throw new Error(`no simulated gateway ${id}`);
  return gw;
}
