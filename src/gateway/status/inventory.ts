/**
 * The gateway's inventory: what it is (id, groups) and what it holds (per module: type, device PID,
 * layout kind, installed version and release, state). Published retained on
 * `{prefix}/{gw}/inventory` so that an operator tool can list a fleet and a campaign can pre-check
 * its targets (a bundle for a PID or layout the gateway does not have would be refused).
 */
import { moduleDevice } from "../config/config.js";
import type { GatewayConfig } from "../config/config.js";
import type { BundleState, ModuleState, ModuleStatus, StatusError } from "./types.js";

export interface InventoryModule {
  module: string;
  type: string;
  /** Device product ID (AN2606 / the device table), e.g. 0x413 for an STM32F407. */
  pid: number;
  layout: "ab" | "single";
  version: string | null;
  release: string | null;
  state: ModuleState;
  /** The module's last error (why its last update failed), or null. */
  error: StatusError | null;
}

export interface GatewayInventory {
  gateway: string;
  groups: string[];
  /** Last accepted manifest sequence: a campaign whose bundle is older is "already past" here. */
  lastSequence: number;
  /** The state of the last accepted bundle, or null. */
  bundle: { release: string; sequence: number; state: BundleState } | null;
  modules: InventoryModule[];
  updatedAt: string;
}

export function buildInventory(
  config: GatewayConfig,
  statuses: readonly ModuleStatus[],
  summary: { lastSequence: number; bundle: GatewayInventory["bundle"] },
  now: number,
): GatewayInventory {
  const byId = new Map(statuses.map((s) => [s.module, s]));
  return {
    gateway: config.gateway.id,
    groups: [...config.gateway.groups],
    lastSequence: summary.lastSequence,
    bundle: summary.bundle,
    modules: config.modules.map((m) => {
      const status = byId.get(m.id);
      return {
        module: m.id,
        type: m.type,
        pid: moduleDevice(m).pid,
        layout: m.layout.kind,
        version: status?.version ?? null,
        release: status?.release ?? null,
        state: status?.state ?? "idle",
        error: status?.lastError ?? null,
      };
    }),
    updatedAt: new Date(now).toISOString(),
  };
}
