/**
 * Turns the engine's command outcome into the JSON command response of the contract.
 */
import type { CommandOutcome, StatusError } from "../../gateway/index.js";
import type { CommandResponse } from "../contract/contract.js";

export function commandResponse(
  gateway: string,
  correlationId: string | null,
  result: { outcome: CommandOutcome } | { error: StatusError },
  now: () => number = Date.now,
): CommandResponse {
  const at = new Date(now()).toISOString();
  if ("error" in result) {
    return {
      correlationId,
      gateway,
      status: "error",
      command: null,
      modules: [],
      error: result.error,
      detail: null,
      at,
    };
  }
  const { outcome } = result;
  return {
    correlationId,
    gateway,
    status: outcome.status,
    command: outcome.command,
    modules: outcome.modules,
    error: outcome.ok ? null : outcome.error,
    detail: jsonSafe(outcome),
    at,
  };
}

/** A JSON round trip that turns bytes into hex and errors into their JSON form, dropping what cannot be encoded. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
      if (typeof v === "bigint") return v.toString();
      return v;
    }) ?? "null",
  ) as unknown;
}
