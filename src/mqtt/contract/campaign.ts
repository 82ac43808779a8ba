/**
 * The campaign part of the MQTT contract. A campaign controller (`subflash campaign run`) publishes
 * its state retained, so that any operator, on any broker of a bridge, sees the same campaign; the
 * other `campaign` commands steer it through retained control topics that hold the desired state
 * (paused or not, highest approved wave, aborted), so a controller that restarts reads them again.
 *
 *   {prefix}/campaigns/{id}/state              retained CampaignSnapshot (JSON)
 *   {prefix}/campaigns/{id}/decisions          retained: the latest decisions, newest last (JSON)
 *   {prefix}/campaigns/{id}/control/paused     retained {"paused": bool, "by", "at"}
 *   {prefix}/campaigns/{id}/control/approved   retained {"wave": n (1-based), "by", "at"}
 *   {prefix}/campaigns/{id}/control/abort      retained {"abort": true, "by", "at"}
 */
import { z } from "zod";
import { MqttError } from "../errors.js";
import { assertPrefix, assertTopicLevel } from "./topics.js";

export const CAMPAIGNS_LEVEL = "campaigns";

export interface CampaignTopics {
  state: string;
  decisions: string;
  paused: string;
  approved: string;
  abort: string;
  controlFilter: string;
}

export function campaignTopics(prefix: string, id: string): CampaignTopics {
  const base = `${assertPrefix(prefix)}/${CAMPAIGNS_LEVEL}/${assertTopicLevel(id, "campaign id")}`;
  return {
    state: `${base}/state`,
    decisions: `${base}/decisions`,
    paused: `${base}/control/paused`,
    approved: `${base}/control/approved`,
    abort: `${base}/control/abort`,
    controlFilter: `${base}/control/+`,
  };
}

/** Filter for every campaign's state under a prefix. */
export function campaignStateFilter(prefix: string): string {
  return `${assertPrefix(prefix)}/${CAMPAIGNS_LEVEL}/+/state`;
}

/** Outcome of one gateway in a campaign. */
export type GatewayOutcome =
  | "pending" // not started yet
  | "waiting-offline" // its wave started while it was offline; waiting per the offline policy
  | "sending" // the decision to send is journalled; the broker has not acknowledged yet
  | "in-progress" // sent; the gateway is verifying or installing
  | "committed"
  | "already" // already had this release, or a newer one: a success, nothing sent
  | "failed" // the gateway ran the bundle and rolled back
  | "rejected" // the gateway refused the bundle (signature, policy, device…)
  | "timed-out" // no outcome within the per-gateway timeout (or offline past the wait)
  | "cancelled" // stopped by the campaign's emergency stop
  | "skipped"; // never started: the campaign ended first

export const FINAL_OUTCOMES: ReadonlySet<GatewayOutcome> = new Set([
  "committed",
  "already",
  "failed",
  "rejected",
  "timed-out",
  "cancelled",
  "skipped",
]);

export type CampaignState =
  "planning" | "running" | "soaking" | "waiting-approval" | "paused" | "aborting" | "aborted" | "completed";

export interface WaveSummary {
  index: number;
  name: string | null;
  targets: number;
  pending: number;
  inProgress: number;
  committed: number;
  already: number;
  failed: number;
  rejected: number;
  timedOut: number;
  cancelled: number;
  skipped: number;
  startedAt: string | null;
  finishedAt: string | null;
  approval: boolean;
}

export interface GatewayProblem {
  gateway: string;
  wave: number;
  outcome: GatewayOutcome;
  error: { code: string; message: string } | null;
  modules: Array<{ module: string; state: string; error: { code: string; message: string } | null }>;
}

/** Retained on `{prefix}/campaigns/{id}/state`. */
export interface CampaignSnapshot {
  id: string;
  release: string;
  sequence: number;
  state: CampaignState;
  /** Why it is paused, aborted or waiting, in words. */
  reason: string | null;
  /** 1-based index of the wave running (or next), 0 before the first. */
  currentWave: number;
  waves: WaveSummary[];
  ineligible: Array<{ gateway: string; reason: string }>;
  problems: GatewayProblem[];
  startedAt: string;
  finishedAt: string | null;
  updatedAt: string;
}

export interface CampaignDecision {
  at: string;
  /** e.g. "plan", "wave-start", "send", "outcome", "wave-done", "pause", "resume", "approve", "abort", "done". */
  kind: string;
  wave?: number;
  gateway?: string;
  text: string;
}

export interface ControlMessage {
  by: string;
  at: string;
}

const snapshotSchema = z.looseObject({
  id: z.string(),
  release: z.string(),
  sequence: z.number(),
  state: z.string(),
  reason: z.string().nullable(),
  currentWave: z.number(),
  waves: z.array(z.looseObject({ index: z.number(), targets: z.number() })),
  ineligible: z.array(z.looseObject({ gateway: z.string(), reason: z.string() })),
  problems: z.array(z.looseObject({ gateway: z.string(), outcome: z.string() })),
});

/** Reads a retained campaign state written by another controller (possibly another version). */
export function decodeCampaignSnapshot(payload: Uint8Array, topic: string): CampaignSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new MqttError("bad-payload", `${topic}: payload is not JSON`, { topic });
  }
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) throw new MqttError("bad-payload", `${topic}: not a campaign state`, { topic });
  return value as CampaignSnapshot;
}

/** Parses a JSON control payload; null for an empty (deleted) or unreadable one. */
export function decodeControl(payload: Uint8Array): Record<string, unknown> | null {
  if (payload.length === 0) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(payload));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
