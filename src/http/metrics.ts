/**
 * Prometheus metrics of one gateway (prom-client), fed by the update engine's status and events.
 * Names follow the Prometheus conventions (`subflash_` prefix, `_total` counters, `_seconds`, base
 * units); labels are bounded: module ids come from the configuration, states/phases/methods from fixed
 * vocabularies, reasons and causes from the stable error codes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import {
  SETTLED_MODULE_STATES,
  type GatewayEvent,
  type ModuleState,
  type ModuleStatus,
} from "../gateway/index.js";
import { packageVersion } from "../util/version.js";

/** What the metrics listen to (UpdateEngine satisfies it). */
export interface MetricsEngine {
  on(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  on(event: "event", listener: (event: GatewayEvent) => void): unknown;
  off(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  off(event: "event", listener: (event: GatewayEvent) => void): unknown;
  moduleStatuses(): ModuleStatus[];
}

/** The MQTT connection's liveness (MqttConnection satisfies it). */
export interface MetricsConnection {
  readonly connected: boolean;
  on(event: "connected" | "disconnected", listener: () => void): unknown;
}

export const MODULE_STATES: readonly ModuleState[] = [
  "idle",
  "queued",
  "downloading",
  "entering-bootloader",
  "backing-up",
  "erasing",
  "writing",
  "verifying",
  "activating",
  "health-check",
  "committed",
  "failed",
  "rolling-back",
  "rolled-back",
];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #engine: MetricsEngine;
  readonly #now: () => number;
  readonly #last = new Map<
    string,
    { state: ModuleState; since: number; flash: string | null; info: string[] }
  >();
  readonly #runStart = new Map<string, number>();

  readonly moduleState: Gauge<"module" | "state">;
  readonly moduleInfo: Gauge<"module" | "module_type" | "version" | "slot">;
  readonly updateDuration: Histogram<"module" | "outcome">;
  readonly phaseDuration: Histogram<"module" | "phase">;
  readonly updates: Counter<"module" | "outcome">;
  readonly bytesWritten: Counter<"module">;
  readonly blocksSkipped: Counter<"module">;
  readonly retries: Counter<"module">;
  readonly nacks: Counter<"module">;
  readonly verifications: Counter<"module" | "method">;
  readonly bundleRefusals: Counter<"reason">;
  readonly bundleQuarantines: Counter;
  readonly commandRefusals: Counter<"command" | "reason">;
  readonly rollbacks: Counter<"module" | "cause">;
  readonly mqttConnected: Gauge;
  readonly lastSuccess: Gauge<"module">;

  constructor(opts: {
    engine: MetricsEngine;
    connection?: MetricsConnection;
    now?: () => number;
    defaults?: boolean;
  }) {
    this.#engine = opts.engine;
    this.#now = opts.now ?? Date.now;
    const registers = [this.registry];
    if (opts.defaults ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "subflash_process_" });
    new Gauge({
      name: "subflash_build_info",
      help: "subflash version running",
      labelNames: ["version"],
      registers,
    }).set({ version: packageVersion() }, 1);
    this.moduleState = new Gauge({
      name: "subflash_module_state",
      help: "1 for the state each module is in, 0 for the others",
      labelNames: ["module", "state"],
      registers,
    });
    this.moduleInfo = new Gauge({
      name: "subflash_module_info",
      help: "Installed firmware of each module (always 1): type, version, active slot",
      labelNames: ["module", "module_type", "version", "slot"],
      registers,
    });
    const durationBuckets = [5, 15, 30, 60, 120, 300, 600, 1200, 3600];
    this.updateDuration = new Histogram({
      name: "subflash_update_duration_seconds",
      help: "Time from queued to settled of each module's update, by outcome",
      labelNames: ["module", "outcome"],
      buckets: durationBuckets,
      registers,
    });
    this.phaseDuration = new Histogram({
      name: "subflash_phase_duration_seconds",
      help: "Time spent in each working state of an update",
      labelNames: ["module", "phase"],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.updates = new Counter({
      name: "subflash_updates_total",
      help: "Module updates that settled, by outcome (committed, failed, rolled-back, idle)",
      labelNames: ["module", "outcome"],
      registers,
    });
    this.bytesWritten = new Counter({
      name: "subflash_flash_bytes_written_total",
      help: "Bytes written to module flash (Write Memory)",
      labelNames: ["module"],
      registers,
    });
    this.blocksSkipped = new Counter({
      name: "subflash_flash_blocks_skipped_total",
      help: "256-byte blocks left out because they were erased already",
      labelNames: ["module"],
      registers,
    });
    this.retries = new Counter({
      name: "subflash_bootloader_retries_total",
      help: "Bootloader steps tried again (NACK, timeout, garbled answer) during flash writes",
      labelNames: ["module"],
      registers,
    });
    this.nacks = new Counter({
      name: "subflash_bootloader_nacks_total",
      help: "Module failures whose cause was a bootloader NACK",
      labelNames: ["module"],
      registers,
    });
    this.verifications = new Counter({
      name: "subflash_verifications_total",
      help: "Flash writes verified, by method (crc: Get Checksum, readback, none)",
      labelNames: ["module", "method"],
      registers,
    });
    this.bundleRefusals = new Counter({
      name: "subflash_bundle_refusals_total",
      help: "Bundles refused before touching any module, by reason code",
      labelNames: ["reason"],
      registers,
    });
    this.bundleQuarantines = new Counter({
      name: "subflash_bundle_quarantines_total",
      help: "Bundles quarantined after failing retry.attempts times (no more automatic attempts)",
      registers,
    });
    this.commandRefusals = new Counter({
      name: "subflash_command_refusals_total",
      help: "Signed commands refused, by command and reason code",
      labelNames: ["command", "reason"],
      registers,
    });
    this.rollbacks = new Counter({
      name: "subflash_rollbacks_total",
      help: "Modules rolled back, by cause (the error code, or command for a rollback command)",
      labelNames: ["module", "cause"],
      registers,
    });
    this.mqttConnected = new Gauge({
      name: "subflash_mqtt_connected",
      help: "1 while the gateway is connected to its MQTT broker",
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "subflash_last_successful_update_timestamp_seconds",
      help: "When each module last committed an update (Unix time)",
      labelNames: ["module"],
      registers,
    });
    const connection = opts.connection;
    if (connection) {
      this.mqttConnected.set(connection.connected ? 1 : 0);
      connection.on("connected", () => this.mqttConnected.set(1));
      connection.on("disconnected", () => this.mqttConnected.set(0));
    }
    for (const status of this.#engine.moduleStatuses()) this.#onModule(status);
    this.#engine.on("module-status", this.#onModule);
    this.#engine.on("event", this.#onEvent);
  }

  stop(): void {
    this.#engine.off("module-status", this.#onModule);
    this.#engine.off("event", this.#onEvent);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  readonly #onModule = (status: ModuleStatus): void => {
    const id = status.module;
    const now = this.#now();
    const last = this.#last.get(id);
    const flash = status.lastFlash ? JSON.stringify(status.lastFlash) : null;
    if (!last || last.state !== status.state) {
      for (const state of MODULE_STATES)
        this.moduleState.set({ module: id, state }, state === status.state ? 1 : 0);
      if (last && !SETTLED_MODULE_STATES.has(last.state) && last.state !== "queued")
        this.phaseDuration.observe({ module: id, phase: last.state }, (now - last.since) / 1000);
      if (status.state === "queued") this.#runStart.set(id, now);
      if (status.state === "rolling-back")
        this.rollbacks.inc({ module: id, cause: status.lastError?.code ?? "command" });
      const started = this.#runStart.get(id);
      if (SETTLED_MODULE_STATES.has(status.state) && started !== undefined && last) {
        this.#runStart.delete(id);
        this.updateDuration.observe({ module: id, outcome: status.state }, (now - started) / 1000);
        this.updates.inc({ module: id, outcome: status.state });
        if (status.state === "committed") this.lastSuccess.set({ module: id }, now / 1000);
      }
      if (status.state === "failed" || status.state === "rolled-back") {
        const cause = status.lastError?.context?.["cause"];
        if (status.lastError?.code === "nack" || cause === "nack") this.nacks.inc({ module: id });
      }
    }
    if (flash !== null && flash !== last?.flash && status.lastFlash) {
      this.bytesWritten.inc({ module: id }, status.lastFlash.bytesWritten);
      this.blocksSkipped.inc({ module: id }, status.lastFlash.blocksSkipped);
      this.retries.inc({ module: id }, status.lastFlash.retries);
      this.verifications.inc({ module: id, method: status.lastFlash.verifiedBy });
    }
    const info = [id, status.moduleType, status.version ?? "unknown", status.activeSlot ?? "unknown"];
    if (!last || last.info.join("\0") !== info.join("\0")) {
      if (last) this.moduleInfo.remove(...last.info);
      this.moduleInfo.set({ module: id, module_type: info[1]!, version: info[2]!, slot: info[3]! }, 1);
    }
    this.#last.set(id, {
      state: status.state,
      since: !last || last.state !== status.state ? now : last.since,
      flash,
      info,
    });
  };

  readonly #onEvent = (event: GatewayEvent): void => {
    if (event.type === "rejected") this.bundleRefusals.inc({ reason: event.error?.code ?? "unknown" });
    if (event.type === "bundle" && event.state === "quarantined") this.bundleQuarantines.inc();
    if (event.type === "command" && event.error)
      this.commandRefusals.inc({ command: event.command ?? "unknown", reason: event.error.code });
  };
}
