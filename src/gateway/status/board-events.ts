/**
 * The status board's changes as the engine's output: every module and gateway status goes out as
 * it is, and a module's change also as an event: `progress` when only its progress moved,
 * `transition` when its state changed.
 */
import type { BoardSink } from "./board.js";
import type { GatewayEventDraft, GatewayStatus, ModuleStatus } from "./types.js";

export interface BoardOutput {
  moduleStatus(status: ModuleStatus): void;
  gatewayStatus(status: GatewayStatus): void;
  event(event: GatewayEventDraft): void;
}

export function boardEvents(out: BoardOutput): BoardSink {
  return {
    moduleStatus: (status, change) => {
      out.moduleStatus(status);
      if (change.progressOnly && status.progress) {
        out.event({
          type: "progress",
          module: status.module,
          progress: status.progress,
          remainingSeconds: status.remainingSeconds,
          release: status.release,
          sequence: status.sequence,
        });
      } else if (change.from !== status.state) {
        out.event({
          type: "transition",
          module: status.module,
          from: change.from,
          to: status.state,
          version: status.version,
          release: status.release,
          sequence: status.sequence,
          error: status.lastError,
          note: status.note,
        });
      }
    },
    gatewayStatus: (status) => out.gatewayStatus(status),
  };
}
