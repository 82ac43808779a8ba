/**
 * The operator's picture of one or many gateways, built from the retained status messages (and kept
 * current by later ones): online flag, gateway summary, and every module's status. Used by
 * `subflash status`, `subflash rollback` and the demo. Messages that do not match the contract
 * are recorded as problems, never thrown: one bad publisher must not blind the tool.
 */
import {
  decodeGatewayStatus,
  decodeInventory,
  decodeModuleStatus,
  decodeOnline,
} from "../contract/contract.js";
import type { WireGatewayStatus, WireInventory, WireModuleStatus } from "../contract/contract.js";
import { parseStatusTopic } from "../contract/topics.js";
import type { StatusTopic } from "../contract/topics.js";

export interface GatewayView {
  gateway: string;
  /** From `{prefix}/{gw}/online`; null when never seen. */
  online: boolean | null;
  status: WireGatewayStatus | null;
  modules: Map<string, WireModuleStatus>;
  /** From `{prefix}/{gw}/inventory`, when the watcher follows it. */
  inventory: WireInventory | null;
}

export class FleetView {
  readonly #prefix: string;
  readonly #gateways = new Map<string, GatewayView>();
  readonly problems: string[] = [];

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Applies one message; returns what it was about, or null if it is not a status topic or was invalid/stale. */
  apply(topic: string, payload: Uint8Array): StatusTopic | null {
    const parsed = parseStatusTopic(this.#prefix, topic);
    if (!parsed || parsed.kind === "events") return null;
    const view = this.#view(parsed.gateway);
    try {
      switch (parsed.kind) {
        case "online":
          if (payload.length === 0) view.online = null;
          else view.online = decodeOnline(payload, topic);
          return parsed;
        case "gateway-status":
          if (payload.length === 0) view.status = null;
          else view.status = decodeGatewayStatus(payload, topic);
          return parsed;
        case "inventory":
          view.inventory = payload.length === 0 ? null : decodeInventory(payload, topic);
          return parsed;
        case "module-status": {
          if (payload.length === 0) {
            view.modules.delete(parsed.module);
            return parsed;
          }
          const next = decodeModuleStatus(payload, topic);
          const current = view.modules.get(parsed.module);
          if (current && isOlder(next, current)) return null;
          view.modules.set(parsed.module, next);
          return parsed;
        }
      }
    } catch (error) {
      this.problems.push(error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  gateway(id: string): GatewayView | undefined {
    return this.#gateways.get(id);
  }

  /** Every gateway seen, sorted by id. */
  gateways(): GatewayView[] {
    return [...this.#gateways.values()].sort((a, b) => a.gateway.localeCompare(b.gateway));
  }

  /** A JSON-friendly snapshot (`subflash status --json`). */
  toJSON(): Array<{
    gateway: string;
    online: boolean | null;
    status: WireGatewayStatus | null;
    modules: WireModuleStatus[];
  }> {
    return this.gateways().map((g) => ({
      gateway: g.gateway,
      online: g.online,
      status: g.status,
      modules: [...g.modules.values()].sort((a, b) => a.module.localeCompare(b.module)),
    }));
  }

  #view(gateway: string): GatewayView {
    let view = this.#gateways.get(gateway);
    if (!view) {
      view = { gateway, online: null, status: null, modules: new Map(), inventory: null };
      this.#gateways.set(gateway, view);
    }
    return view;
  }
}

/** A message is stale when both its counter and its time are behind what we hold (a restarted gateway may reset the counter). */
function isOlder(next: WireModuleStatus, current: WireModuleStatus): boolean {
  if (next.seq >= current.seq) return false;
  if (next.updatedAt && current.updatedAt) return next.updatedAt < current.updatedAt;
  return true;
}
