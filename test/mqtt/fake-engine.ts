/**
 * A stand-in for the update engine with the shape the bridge uses, for the bridge's own tests: it
 * records what it was handed and emits the statuses a test tells it to. The integration tests use
 * the real UpdateEngine.
 */
import type { BridgeEngine, BridgeEngineEvents } from "../../src/mqtt/gateway/bridge.js";
import type { BundleOutcome, CommandOutcome, GatewayStatus, ModuleStatus } from "../../src/gateway/index.js";
import { TypedEmitter } from "../../src/util/events.js";

export class FakeEngine extends TypedEmitter<BridgeEngineEvents> implements BridgeEngine {
  readonly bundles: Array<{ bytes: Uint8Array; topic: string | undefined }> = [];
  readonly commands: Uint8Array[] = [];
  commandOutcome: CommandOutcome = {
    ok: true,
    status: "ok",
    command: "rollback",
    modules: [],
    message: "rolled back",
    data: {},
  };
  readonly modules = new Map<string, ModuleStatus>();
  gateway: GatewayStatus;

  constructor(id: string, moduleIds: string[]) {
    super();
    this.gateway = {
      gateway: id,
      groups: [],
      online: false,
      bundle: null,
      modules: {},
      lastSequence: 0,
      seq: 1,
      updatedAt: new Date(0).toISOString(),
    };
    for (const m of moduleIds) this.modules.set(m, moduleStatus(m, {}));
  }

  submitBundle(bytes: Uint8Array, via: { topic?: string }): Promise<BundleOutcome> {
    this.bundles.push({ bytes: new Uint8Array(bytes), topic: via.topic });
    return Promise.resolve({
      ok: true,
      status: "accepted",
      release: "r1",
      sequence: 1,
      modules: [],
      upToDate: [],
    });
  }

  submitCommand(bytes: Uint8Array): Promise<CommandOutcome> {
    this.commands.push(new Uint8Array(bytes));
    return Promise.resolve(this.commandOutcome);
  }

  moduleStatuses(): ModuleStatus[] {
    return [...this.modules.values()];
  }

  gatewayStatus(): GatewayStatus {
    return this.gateway;
  }

  /** Updates a module's status and emits it with a transition or progress event, as the engine does. */
  set(module: string, patch: Partial<ModuleStatus>): ModuleStatus {
    const previous = this.modules.get(module) ?? moduleStatus(module, {});
    const next = { ...previous, ...patch, seq: previous.seq + 1, updatedAt: new Date().toISOString() };
    this.modules.set(module, next);
    this.emit("module-status", next);
    const at = new Date().toISOString();
    if (previous.state !== next.state) {
      this.emit("event", {
        type: "transition",
        module,
        from: previous.state,
        to: next.state,
        version: next.version,
        release: next.release,
        sequence: next.sequence,
        error: next.lastError,
        note: next.note,
        at,
      });
    } else if (next.progress) {
      this.emit("event", {
        type: "progress",
        module,
        progress: next.progress,
        remainingSeconds: next.remainingSeconds,
        release: next.release,
        sequence: next.sequence,
        at,
      });
    }
    return next;
  }
}

export function moduleStatus(module: string, patch: Partial<ModuleStatus>): ModuleStatus {
  return {
    module,
    moduleType: `${module}-type`,
    state: "idle",
    version: "1.0.0",
    activeSlot: "a",
    targetVersion: null,
    progress: null,
    remainingSeconds: null,
    release: null,
    sequence: null,
    verification: null,
    lastError: null,
    note: null,
    seq: 1,
    updatedAt: new Date(0).toISOString(),
    ...patch,
  };
}
