/**
 * What a gateway's retained status says about the campaign's bundle (matched by manifest sequence,
 * which the campaign's signed bundle owns): still running, committed, failed and rolled back,
 * cancelled, refused, or overtaken by a newer release.
 */
import type { WireGatewayStatus, WireInventory } from "../../contract/contract.js";
import type { GatewayOutcome, GatewayProblem } from "../../contract/campaign.js";

export type Observed =
  | { outcome: "in-progress" | "unknown" }
  | {
      outcome: Exclude<GatewayOutcome, "pending" | "waiting-offline" | "sending" | "in-progress" | "skipped">;
      error: { code: string; message: string } | null;
    };

export function observe(status: WireGatewayStatus | undefined, sequence: number): Observed {
  if (!status) return { outcome: "unknown" };
  const bundle = status.bundle;
  if (bundle && bundle.sequence === sequence) {
    const error = bundle.error ? { code: bundle.error.code, message: bundle.error.message } : null;
    switch (bundle.state) {
      case "committed":
        return { outcome: "committed", error: null };
      // quarantined: failed retry.attempts times, the gateway will not try it again on its own.
      case "failed":
      case "rolled-back":
      case "quarantined":
        return {
          outcome: "failed",
          error: error ?? { code: bundle.state, message: `bundle ${bundle.state}` },
        };
      case "cancelled":
        return { outcome: "cancelled", error };
      default:
        return { outcome: "in-progress" };
    }
  }
  const rejected = status.lastRejected;
  if ((status.lastSequence ?? 0) > sequence)
    return {
      outcome: "already",
      error: {
        code: "newer-release",
        message: `already past this release (sequence ${status.lastSequence})`,
      },
    };
  if (rejected && rejected.sequence === sequence)
    return { outcome: "rejected", error: { code: rejected.error.code, message: rejected.error.message } };
  return { outcome: "unknown" };
}

/** The modules that failed or were rolled back, with their last error, from the inventory. */
export function failedModules(inv: WireInventory | undefined): GatewayProblem["modules"] {
  if (!inv) return [];
  return inv.modules
    .filter((m) => m.state === "failed" || m.state === "rolled-back" || (m.error ?? null) !== null)
    .map((m) => ({
      module: m.module,
      state: m.state,
      error: m.error ? { code: m.error.code, message: m.error.message } : null,
    }));
}
