/**
 * Turns the engine's command outcome into the JSON command response of the contract.
 */
import type { StatusError } from "../../gateway/index.js";
import type { CommandResponse } from "../contract/contract.js";

export function commandResponse(
  gateway: string,
  correlationId: string | null,
  result: { outcome: unknown } | { error: StatusError },
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
  const outcome = (result.outcome ?? {}) as Record<string, unknown>;
  // A refusal is either `{ ok: false, error: {code, message} }` or a verify failure `{ ok: false, code, message }`.
  const error = statusErrorOf(
    outcome.error ?? (outcome.ok === false && typeof outcome.code === "string" ? outcome : null),
  );
  const ok = outcome.ok === true && error === null;
  return {
    correlationId,
    gateway,
    status: ok ? "ok" : "error",
    command: commandKind(outcome),
    modules: Array.isArray(outcome.modules)
      ? outcome.modules.filter((m): m is string => typeof m === "string")
      : [],
    error: ok ? null : (error ?? { code: "internal", message: "the engine gave no reason" }),
    detail: jsonSafe(outcome),
    at,
  };
}

function commandKind(outcome: Record<string, unknown>): string | null {
  const { command, kind } = outcome;
  if (typeof command === "string") return command;
  if (command && typeof command === "object" && "kind" in command && typeof command.kind === "string")
    return command.kind;
  return typeof kind === "string" ? kind : null;
}

function statusErrorOf(value: unknown): StatusError | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "object" && "code" in value && typeof value.code === "string") {
    const message = "message" in value && typeof value.message === "string" ? value.message : value.code;
    const context =
      "context" in value && typeof value.context === "object" && value.context !== null
        ? value.context
        : undefined;
    return { code: value.code, message, ...(context ? { context: context as Record<string, unknown> } : {}) };
  }
  return { code: "internal", message: typeof value === "string" ? value : JSON.stringify(value) };
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
