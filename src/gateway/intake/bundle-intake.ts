/**
 * From received bytes to a run record, touching no module: verify (src/manifest: signatures over
 * the exact bytes, target, freshness, replay, security floors, device and slot fit, dependencies,
 * image digests) against this gateway's identity, trust store and persisted state; plan the jobs;
 * put the inline images into the image store. Every refusal is a named code.
 */
import { randomUUID } from "node:crypto";
import { compareVersions, verifyBundle } from "../../manifest/index.js";
import type { ModuleTypeConfig } from "../../manifest/index.js";
import type { Manifest } from "../../manifest/index.js";
import type { TrustStore } from "../../signing/index.js";
import { sha256, toHex } from "../../signing/index.js";
import type { GatewayConfig } from "../config/config.js";
import { moduleDevice } from "../config/config.js";
import type { ImageStore } from "../store/image-store.js";
import { planBundle } from "../plan/planner.js";
import type { RunRecord } from "../run/types.js";
import type { StateStore } from "../store/state-store.js";
import type { StatusError, StatusErrorCode } from "../status/types.js";

export interface IntakeContext {
  config: GatewayConfig;
  trust: TrustStore;
  state: StateStore;
  images: ImageStore;
  now(): number;
}

export type IntakeResult =
  | { ok: true; run: RunRecord; manifest: Manifest; upToDate: string[] }
  | { ok: false; error: StatusError; release: string | null; sequence: number | null };

export async function intakeBundle(ctx: IntakeContext, bytes: Uint8Array): Promise<IntakeResult> {
  const { config, state } = ctx;
  const verified = verifyBundle(bytes, {
    trust: ctx.trust,
    gateway: { id: config.gateway.id, groups: config.gateway.groups },
    state: {
      lastSequence: state.get().lastSequence,
      securityFloors: state.get().securityFloors,
      installedVersions: installedVersions(ctx),
    },
    now: new Date(ctx.now()),
    skewSeconds: config.clockSkewSeconds,
    moduleTypes: moduleTypes(config),
  });
  if (!verified.ok) {
    const error = {
      code: verified.code,
      message: verified.message,
      context: { stage: verified.stage, ...verified.detail },
    };
    // A policy refusal (replay, expiry, target…) comes after the signatures were verified and the
    // payload decoded: the release is known, and the status names it.
    return {
      ok: false,
      error,
      release: verified.refused?.release ?? null,
      sequence: verified.refused?.sequence ?? null,
    };
  }
  const { manifest } = verified;
  const refused = (code: StatusErrorCode, message: string): IntakeResult => ({
    ok: false,
    error: { code, message },
    release: manifest.release,
    sequence: manifest.sequence,
  });
  const plan = planBundle(manifest, config.modules, (id) => state.module(id));
  if (!plan.ok) return refused(plan.code, plan.message);
  for (const job of plan.jobs) {
    const carried = verified.images.get(job.moduleType) ?? {};
    for (const [slot, ref] of Object.entries(job.target.images)) {
      if (ref.url) continue;
      const image = carried[slot as keyof typeof carried];
      if (!image)
        return refused(
          "bundle-mismatch",
          `module ${job.module}: the bundle does not carry the ${slot} image of ${job.moduleType}`,
        );
      await ctx.images.put(image);
    }
  }
  const now = new Date(ctx.now()).toISOString();
  const run: RunRecord = {
    format: 1,
    id: randomUUID(),
    kind: "bundle",
    release: manifest.release,
    sequence: manifest.sequence,
    bundleDigest: toHex(sha256(bytes)),
    expiresAt: new Date(manifest.expires * 1000).toISOString(),
    allOrNothing: manifest.policy.atomicity === "all-or-nothing",
    maxParallel: Math.min(manifest.policy.parallelism, config.maxParallel),
    state: "running",
    outcome: "running",
    cancelRequested: false,
    jobs: plan.jobs,
    commitOrder: [],
    firstError: null,
    note: plan.upToDate.length > 0 ? `already up to date: ${plan.upToDate.join(", ")}` : null,
    notes: manifest.notes ?? null,
    startedAt: now,
    finishedAt: null,
  };
  return { ok: true, run, manifest, upToDate: plan.upToDate };
}

/** PID and slot layout per module type, from the first module of each type (planBundle checks every module). */
function moduleTypes(config: GatewayConfig): Record<string, ModuleTypeConfig> {
  const out: Record<string, ModuleTypeConfig> = {};
  for (const m of config.modules) {
    if (out[m.type]) continue;
    const l = m.layout;
    out[m.type] = {
      pid: moduleDevice(m).pid,
      slots: l.kind === "single" ? { single: { ...l.slot } } : { a: { ...l.slotA }, b: { ...l.slotB } },
    };
  }
  return out;
}

/** Per module type, the lowest confirmed version among its modules; types with an unknown version are left out. */
function installedVersions(ctx: IntakeContext): Record<string, string> {
  const out: Record<string, string> = {};
  const unknown = new Set<string>();
  for (const m of ctx.config.modules) {
    const version = ctx.state.module(m.id).confirmed?.version ?? null;
    if (version === null) {
      unknown.add(m.type);
      continue;
    }
    const current = out[m.type];
    if (current === undefined || safeCompare(version, current) < 0) out[m.type] = version;
  }
  for (const type of unknown) delete out[type];
  return out;
}

function safeCompare(a: string, b: string): number {
  try {
    return compareVersions(a, b);
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}
