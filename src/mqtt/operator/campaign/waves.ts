/**
 * The wave policy of a campaign, on its journalled record: when the next wave may start (after the
 * previous one's soak, unless paused or waiting for an approval), when a wave is done, when a done
 * wave's success rate pauses the rollout, when the campaign is complete; and the abort criteria
 * (AWS IoT Jobs style: failures of a type ≥ threshold % of the executed gateways, once enough have
 * executed). Pure decisions on the record; the controller journals, publishes and talks MQTT.
 */
import { FINAL_OUTCOMES } from "../../contract/campaign.js";
import type { CampaignRecord } from "./journal.js";
import type { CampaignSpec } from "./spec.js";

/** Records one decision (the controller journals and logs it). */
export type Decide = (kind: string, text: string, extra?: { gateway?: string; wave?: number }) => void;

export interface WaveStep {
  /** Waves started by this step (1-based indexes). */
  started: number[];
  /** Set when a finished wave's success rate paused the campaign: the pause's time (ISO). */
  autoPausedAt?: string;
}

/** The reason to abort when one of `criteria` is met by the gateways that have executed, else undefined. */
export function abortReason(r: CampaignRecord, criteria: CampaignSpec["abort"]): string | undefined {
  const done = Object.values(r.gateways).filter(
    (g) => FINAL_OUTCOMES.has(g.outcome) && g.outcome !== "skipped",
  );
  for (const c of criteria) {
    if (done.length < c.minNumberOfExecutedThings) continue;
    const failures = done.filter((g) =>
      c.failureType === "any"
        ? g.outcome === "failed" || g.outcome === "rejected" || g.outcome === "timed-out"
        : g.outcome === c.failureType,
    ).length;
    const percent = (failures * 100) / done.length;
    if (percent >= c.thresholdPercentage)
      return `abort criterion met: ${failures} of ${done.length} executed ${c.failureType} (${percent.toFixed(1)} % ≥ ${c.thresholdPercentage} %)`;
  }
  return undefined;
}

/** Moves the record's waves on at time `now`: starts, finishes, soaks, pauses, completes. */
export function advanceWaves(r: CampaignRecord, now: number, decide: Decide): WaveStep {
  const iso = new Date(now).toISOString();
  const step: WaveStep = { started: [] };
  for (const wave of r.waves) {
    if (wave.finishedAt) continue;
    const members = Object.values(r.gateways).filter((g) => g.wave === wave.index);
    if (!wave.startedAt) {
      const previous = r.waves[wave.index - 2];
      if (previous?.soakUntil && now < Date.parse(previous.soakUntil)) {
        r.state = "soaking";
        r.reason = `soaking after wave ${previous.index} until ${previous.soakUntil}`;
        return step;
      }
      if (r.paused) {
        r.state = "paused";
        r.reason ??= "paused";
        return step;
      }
      if (wave.approval && members.length > 0 && r.approvedUpTo < wave.index) {
        if (r.state !== "waiting-approval")
          decide("wait-approval", `wave ${wave.index} waits for approval`, { wave: wave.index });
        r.state = "waiting-approval";
        r.reason = `wave ${wave.index} needs approval (subflash campaign approve ${r.id})`;
        return step;
      }
      wave.startedAt = iso;
      r.state = "running";
      r.reason = null;
      step.started.push(wave.index);
      decide("wave-start", `wave ${wave.index} started with ${members.length} gateways`, {
        wave: wave.index,
      });
    }
    if (r.paused) {
      r.state = "paused";
      r.reason ??= "paused";
      return step;
    }
    r.state = "running";
    if (!members.every((g) => FINAL_OUTCOMES.has(g.outcome))) return step;
    wave.finishedAt = iso;
    wave.soakUntil = new Date(now + wave.soakSeconds * 1000).toISOString();
    const good = members.filter((g) => g.outcome === "committed" || g.outcome === "already").length;
    const percent = members.length === 0 ? 100 : (good * 100) / members.length;
    decide(
      "wave-done",
      `wave ${wave.index} done: ${good} of ${members.length} succeeded (${percent.toFixed(1)} %)`,
      { wave: wave.index },
    );
    if (percent < wave.minSuccessPercentage && wave.index < r.waves.length) {
      r.paused = true;
      r.state = "paused";
      r.reason = `wave ${wave.index} succeeded on ${percent.toFixed(1)} % < ${wave.minSuccessPercentage} %: paused (resume or abort)`;
      decide("pause", r.reason, { wave: wave.index });
      step.autoPausedAt = iso;
      return step;
    }
  }
  r.state = "completed";
  r.reason = null;
  r.finishedAt = iso;
  decide("done", "every wave finished");
  return step;
}
