/**
 * What a module job runs with: the module's configuration and link, the stores, a checkpoint that
 * journals the run before each step acts, status reporting, and the per-phase watchdog. Also the
 * lazily opened bootloader session shared by consecutive steps, and the health check wiring.
 */
import type { DeviceInfo } from "../../targets/index.js";
import {
  BootloaderError,
  FlashError,
  programMs,
  TransportError,
  unitsCovering,
  unitEraseMs,
} from "../../targets/index.js";
import { describeError, isSubflashError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import type { ModuleConfig } from "../config/config.js";
import { lineMs, usartOf } from "../config/config.js";
import { GatewayError } from "../errors.js";
import { runHealthCheck } from "./health.js";
import type { ImageStore } from "../store/image-store.js";
import type { BootSession, ModuleLink } from "./link.js";
import type { StateStore } from "../store/state-store.js";
import type { FlashFigures, FlashSummary, ModuleState, ProgressInfo, StatusError } from "../status/types.js";
import { withWatchdog } from "./watchdog.js";

export interface StatusUpdate {
  state?: ModuleState;
  progress?: ProgressInfo | null;
  remainingSeconds?: number | null;
  verification?: string | null;
  flash?: FlashSummary | null;
  lastFlash?: FlashFigures | null;
  lastError?: StatusError | null;
  note?: string | null;
  version?: string | null;
  targetVersion?: string | null;
}

export interface JobEnv {
  module: ModuleConfig;
  device: DeviceInfo;
  link: ModuleLink;
  images: ImageStore;
  state: StateStore;
  log: Logger;
  /** Cancel / stop of the whole run. */
  signal: AbortSignal;
  /** Journals the run (the job was just changed in place) before the step acts. */
  checkpoint(what: string): Promise<void>;
  report(update: StatusUpdate): void;
}

/** Runs one phase under its watchdog; expiry closes the module's ports so blocked reads return. */
export function phase<T>(
  env: JobEnv,
  name: string,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return withWatchdog(
    { module: env.module.id, phase: name, ms, signal: env.signal, onExpire: () => env.link.abort() },
    fn,
  );
}

/** A bootloader session opened on first use and kept across steps until left or closed. */
export class SessionHolder {
  #session: BootSession | undefined;

  constructor(private readonly env: JobEnv) {}

  get open(): boolean {
    return this.#session !== undefined;
  }

  async get(signal: AbortSignal): Promise<BootSession> {
    if (this.#session) return this.#session;
    this.env.report({ state: "entering-bootloader", progress: null });
    const session = await this.env.link.enterBootloader(signal);
    if (session.bootloader.rdp === "level1") {
      await this.env.link.closeSession(session);
      throw new GatewayError(
        "readout-protected",
        `module ${this.env.module.id}: ${session.bootloader.device.name} on ${this.env.link.port} is readout-protected (RDP level 1); nothing was written`,
        { module: this.env.module.id, port: this.env.link.port },
      );
    }
    this.#session = session;
    return session;
  }

  /** Starts the firmware from flash (Go to `address`, or reset) and closes the session. */
  async leave(address: number, signal: AbortSignal): Promise<void> {
    const session = await this.get(signal);
    this.#session = undefined;
    await this.env.link.leave(session, address);
  }

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session) await this.env.link.closeSession(session);
  }
}

/**
 * Runs the module's health check expecting `version` (null: any version). For `bootloader-only` the
 * check is a reset into the bootloader; the session stays open in `holder` for whatever comes next.
 * Resolves with the version the application reported when it was unknown (uart-probe), else null.
 */
export async function healthCheck(
  env: JobEnv,
  holder: SessionHolder,
  version: string | null,
  signal: AbortSignal,
  shownAs: ModuleState = "health-check",
): Promise<string | null> {
  const health = env.module.health;
  env.report({ state: shownAs, progress: null });
  const result = await runHealthCheck(
    health,
    version,
    {
      openApplication: () =>
        env.link.openApplication({
          // An I2C module's probe names its application port (checked by the config).
          path: (health.kind === "uart-probe" ? health.path : undefined) ?? usartOf(env.module).path,
          baud: health.kind === "uart-probe" ? health.baud : usartOf(env.module).baud,
          parity: health.kind === "uart-probe" ? health.parity : "none",
        }),
      checkBootloader: async () => {
        await holder.get(signal);
      },
    },
    signal,
    env.log,
  );
  if (!result.ok) {
    throw new GatewayError(
      "health-check-failed",
      `module ${env.module.id}: health check (${health.kind}) failed: ${result.message}`,
      {
        module: env.module.id,
        check: health.kind,
        expected: version,
      },
    );
  }
  env.log.info({ check: health.kind, detail: result.detail }, "health check passed");
  return result.version ?? null;
}

/** Where Go starts the module's firmware: the selector for A/B, the slot for single. */
export function startAddress(module: ModuleConfig, device: DeviceInfo): number {
  const layout = module.layout;
  return layout.kind === "single" ? layout.slot.address : (layout.selector ?? device.flash.start);
}

/** Watchdog budget of a slot write: erase, write and verify at the line speed, ×3, plus 30 s; or the configured one. */
export function flashBudgetMs(
  module: ModuleConfig,
  device: DeviceInfo,
  address: number,
  length: number,
): number {
  if (module.timeouts.flashMs !== undefined) return module.timeouts.flashMs;
  const units = unitsCovering(device, address, address + length);
  const eraseMs = units.reduce((ms, u) => ms + unitEraseMs(device, u.size, "max"), 0);
  // Write and read-back both move the image over the line, with ~5 % framing overhead.
  const wire = 2 * lineMs(module, length * 1.05);
  return Math.ceil(3 * (eraseMs + programMs(device, length, "max") + wire) + 30_000);
}

/** Watchdog budget of reading a whole slot back (single-module backup). */
export function readBudgetMs(module: ModuleConfig, size: number): number {
  return Math.ceil(3 * lineMs(module, size * 1.05) + module.timeouts.enterMs);
}

/** A failure as published in status: its stable code, message and context. */
export function statusError(error: unknown, fallback: GatewayError["code"] = "internal"): StatusError {
  if (
    error instanceof GatewayError ||
    error instanceof TransportError ||
    error instanceof BootloaderError ||
    error instanceof FlashError
  ) {
    return { code: error.code, message: error.message, context: { ...error.context } };
  }
  // Other domains (images, signing…) have no published codes: the fallback, with theirs as context.
  if (isSubflashError(error)) {
    return {
      code: fallback,
      message: error.message,
      context: { ...error.context, domain: error.domain, cause: error.code },
    };
  }
  return { code: fallback, message: describeError(error) };
}

/** A module's failure for status: errors from the layers below name the port, this names the module too. */
export function moduleError(module: string, error: unknown): StatusError {
  const status = statusError(error);
  const message = status.message.startsWith(`module ${module}:`)
    ? status.message
    : `module ${module}: ${status.message}`;
  return { ...status, message, context: { module, ...status.context } };
}
