/**
 * Signed operator commands: `rollback` (one module, or every module, back to its previous firmware,
 * never below a security floor), `cancel` (the running bundle stops at the next safe point and rolls
 * back what it changed), `retry` (a failed or cancelled bundle runs again). Verified like manifests;
 * command sequence numbers are a counter of their own. This file decides; the engine acts.
 */
import { randomUUID } from "node:crypto";
import { verifyCommand } from "../../manifest/index.js";
import type { CommandKind, SignedCommand } from "../../manifest/index.js";
import type { TrustStore } from "../../signing/index.js";
import type { GatewayConfig, ModuleConfig } from "../config/config.js";
import type { GatewayErrorCode } from "../errors.js";
import { isUpToDate, newJob } from "../plan/planner.js";
import type { JobRecord, RunRecord } from "../run/types.js";
import type { StateStore } from "../store/state-store.js";
import type { StatusError, StatusErrorCode } from "../status/types.js";

/** The response payload of a command (the MQTT side adds the correlation id). */
export type CommandOutcome =
  | {
      ok: true;
      status: "ok";
      command: CommandKind;
      modules: string[];
      message: string;
      data: Record<string, unknown>;
    }
  | {
      ok: false;
      status: "error";
      command: CommandKind | null;
      modules: string[];
      code: StatusErrorCode;
      message: string;
      error: StatusError;
    };

export interface CommandContext {
  config: GatewayConfig;
  trust: TrustStore;
  state: StateStore;
  now(): number;
  /** The run in progress, if any. */
  current(): RunRecord | null;
  /** The last run (in progress or finished), from the journal. */
  last(): RunRecord | null;
  /** Why bundles are refused until acknowledged (state-guard.ts), or null. */
  stateAlert(): StatusError | null;
}

/** What the engine must do after a command was accepted. */
export type CommandDecision =
  | { kind: "refuse"; outcome: CommandOutcome }
  | { kind: "cancel"; outcome: CommandOutcome }
  | { kind: "acknowledge"; outcome: CommandOutcome }
  | { kind: "start"; run: RunRecord; outcome: CommandOutcome };

export function verifySignedCommand(
  ctx: CommandContext,
  bytes: Uint8Array,
): { ok: true; command: SignedCommand } | { ok: false; outcome: CommandOutcome } {
  const verified = verifyCommand(bytes, {
    trust: ctx.trust,
    gateway: { id: ctx.config.gateway.id },
    state: { lastCommandSequence: ctx.state.get().lastCommandSequence },
    now: new Date(ctx.now()),
    skewSeconds: ctx.config.clockSkewSeconds,
  });
  if (!verified.ok)
    return {
      ok: false,
      outcome: refusal(null, verified.code, verified.message, [], {
        stage: verified.stage,
        ...verified.detail,
      }),
    };
  return { ok: true, command: verified.command };
}

/** Decides what an accepted (verified, sequence persisted) command does. */
export function decideCommand(ctx: CommandContext, command: SignedCommand): CommandDecision {
  switch (command.kind) {
    case "cancel":
      return decideCancel(ctx, command);
    case "retry":
      return decideRetry(ctx, command);
    case "rollback":
      return decideRollback(ctx, command);
    case "acknowledge-state":
      return decideAcknowledge(ctx);
  }
}

/** The operator lifts a state alert; its own command sequence (already persisted) guards it from replay. */
function decideAcknowledge(ctx: CommandContext): CommandDecision {
  const alert = ctx.stateAlert();
  if (!alert) return refuse("acknowledge-state", "nothing-to-acknowledge", "no state alert stands");
  return {
    kind: "acknowledge",
    outcome: ok("acknowledge-state", [], `${alert.code} acknowledged: bundles are accepted again`, {
      acknowledged: alert.code,
      lastSequence: ctx.state.get().lastSequence,
    }),
  };
}

function decideCancel(ctx: CommandContext, command: SignedCommand): CommandDecision {
  const run = ctx.current();
  if (!run || run.state !== "running" || run.kind === "rollback") {
    return refuse("cancel", "nothing-to-cancel", "no bundle is being applied");
  }
  if (command.bundle && command.bundle.sequence !== run.sequence) {
    return refuse(
      "cancel",
      "nothing-to-cancel",
      `the running bundle is sequence ${run.sequence ?? "?"}, not ${command.bundle.sequence}`,
    );
  }
  const modules = run.jobs.map((j) => j.module);
  return {
    kind: "cancel",
    outcome: ok(
      "cancel",
      modules,
      `release ${run.release ?? "?"} stops at the next safe point and rolls back`,
      { release: run.release, sequence: run.sequence },
    ),
  };
}

function decideRetry(ctx: CommandContext, command: SignedCommand): CommandDecision {
  if (ctx.current()) return refuse("retry", "busy", "a bundle or command is running");
  const last = ctx.last();
  if (!last || last.kind === "rollback" || (last.outcome !== "failed" && last.outcome !== "cancelled")) {
    return refuse("retry", "nothing-to-retry", "the last bundle did not fail");
  }
  if (command.bundle && command.bundle.sequence !== last.sequence) {
    return refuse(
      "retry",
      "nothing-to-retry",
      `the last bundle is sequence ${last.sequence ?? "?"}, not ${command.bundle.sequence}`,
    );
  }
  return planRetry(ctx, last);
}

/**
 * A new run of `last` (a failed or cancelled bundle) for the modules that do not run its target yet:
 * what a signed retry starts, and what the gateway starts on its own after a back-off (quarantine.ts).
 */
export function planRetry(ctx: CommandContext, last: RunRecord): CommandDecision {
  if (last.expiresAt && Date.parse(last.expiresAt) <= ctx.now()) {
    return refuse(
      "retry",
      "expired",
      `release ${last.release ?? "?"} expired at ${last.expiresAt}; publish it again with a new expiry`,
    );
  }
  const modules = new Map(ctx.config.modules.map((m) => [m.id, m]));
  const jobs: JobRecord[] = [];
  for (const old of last.jobs) {
    const module = modules.get(old.module);
    if (!module || isUpToDate(ctx.state.module(old.module), old.target)) continue;
    jobs.push({ ...newJob(module, old.target, "install"), dependsOn: old.dependsOn });
  }
  if (jobs.length === 0)
    return refuse("retry", "nothing-to-retry", "every module of the bundle already runs it");
  const run = newRun(ctx, { ...last, kind: "retry" }, jobs);
  return {
    kind: "start",
    run,
    outcome: ok(
      "retry",
      jobs.map((j) => j.module),
      `release ${last.release ?? "?"} runs again`,
      { release: last.release, sequence: last.sequence },
    ),
  };
}

function decideRollback(ctx: CommandContext, command: SignedCommand): CommandDecision {
  if (ctx.current()) return refuse("rollback", "busy", "a bundle or command is running");
  const chosen = command.module
    ? ctx.config.modules.filter((m) => m.id === command.module || m.type === command.module)
    : ctx.config.modules;
  if (chosen.length === 0)
    return refuse(
      "rollback",
      "unknown-module",
      `no module or module type "${command.module ?? ""}" on gateway ${ctx.config.gateway.id}`,
    );
  const floors = ctx.state.get().securityFloors;
  const jobs: JobRecord[] = [];
  const without: string[] = [];
  for (const module of chosen) {
    const previous = ctx.state.module(module.id).previous;
    if (!previous) {
      without.push(module.id);
      continue;
    }
    const floor = floors[module.type] ?? 0;
    if (previous.securityVersion < floor) {
      return refuse(
        "rollback",
        "below-security-floor",
        `module ${module.id}: its previous firmware ${previous.version ?? "?"} has security version ${previous.securityVersion}, below the floor ${floor} of ${module.type}`,
        [module.id],
      );
    }
    jobs.push(restoreJob(module, previous));
  }
  // Naming a module that has nothing to go back to is an error; "all" skips such modules.
  if (jobs.length === 0 || (command.module && without.length > 0)) {
    return refuse(
      "rollback",
      "no-previous-image",
      `no previous firmware known for ${without.join(", ")}`,
      without,
    );
  }
  const run = newRun(
    ctx,
    {
      kind: "rollback",
      release: null,
      sequence: null,
      expiresAt: null,
      bundleDigest: null,
      allOrNothing: true,
    },
    jobs,
  );
  const message =
    without.length > 0
      ? `rolling back ${jobs.length} module(s); nothing to roll back on ${without.join(", ")}`
      : `rolling back ${jobs.length} module(s)`;
  return {
    kind: "start",
    run,
    outcome: ok(
      "rollback",
      jobs.map((j) => j.module),
      message,
      { skipped: without },
    ),
  };
}

/** A restore job: the install steps with the previous firmware as the target. */
function restoreJob(
  module: ModuleConfig,
  previous: NonNullable<ReturnType<StateStore["module"]>["previous"]>,
): JobRecord {
  return newJob(
    module,
    {
      version: previous.version,
      release: previous.release,
      sequence: previous.sequence,
      securityVersion: previous.securityVersion,
      images: {
        [previous.slot]: {
          digest: previous.digest,
          length: previous.length,
          crc: previous.crc ?? 0,
          address: previous.address,
        },
      },
    },
    "restore",
  );
}

function newRun(
  ctx: CommandContext,
  from: Pick<RunRecord, "kind" | "release" | "sequence" | "expiresAt" | "bundleDigest" | "allOrNothing">,
  jobs: JobRecord[],
): RunRecord {
  return {
    format: 1,
    id: randomUUID(),
    kind: from.kind,
    release: from.release,
    sequence: from.sequence,
    bundleDigest: from.bundleDigest,
    expiresAt: from.expiresAt,
    allOrNothing: from.allOrNothing,
    maxParallel: ctx.config.maxParallel,
    state: "running",
    outcome: "running",
    cancelRequested: false,
    jobs,
    commitOrder: [],
    firstError: null,
    note: null,
    startedAt: new Date(ctx.now()).toISOString(),
    finishedAt: null,
  };
}

function ok(
  command: CommandKind,
  modules: string[],
  message: string,
  data: Record<string, unknown>,
): CommandOutcome {
  return { ok: true, status: "ok", command, modules, message, data };
}

function refusal(
  command: CommandKind | null,
  code: StatusErrorCode,
  message: string,
  modules: string[] = [],
  context?: Record<string, unknown>,
): CommandOutcome {
  return {
    ok: false,
    status: "error",
    command,
    modules,
    code,
    message,
    error: { code, message, ...(context ? { context } : {}) },
  };
}

function refuse(
  command: CommandKind,
  code: GatewayErrorCode | "expired",
  message: string,
  modules: string[] = [],
): CommandDecision {
  return { kind: "refuse", outcome: refusal(command, code, message, modules) };
}
