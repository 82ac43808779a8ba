/** The journal record as the retained, readable campaign state (`{prefix}/campaigns/{id}/state`). */
import type { CampaignSnapshot, GatewayProblem, WaveSummary } from "../../contract/campaign.js";
import type { CampaignRecord } from "./journal.js";

const PROBLEM_OUTCOMES = new Set(["failed", "rejected", "timed-out", "cancelled"]);

export function snapshotOf(r: CampaignRecord, now: string): CampaignSnapshot {
  const gateways = Object.entries(r.gateways);
  const waves: WaveSummary[] = r.waves.map((w) => {
    const members = gateways.filter(([, g]) => g.wave === w.index).map(([, g]) => g.outcome);
    const count = (...outcomes: string[]): number => members.filter((o) => outcomes.includes(o)).length;
    return {
      index: w.index,
      name: w.name,
      targets: members.length,
      pending: count("pending", "waiting-offline"),
      inProgress: count("sending", "in-progress"),
      committed: count("committed"),
      already: count("already"),
      failed: count("failed"),
      rejected: count("rejected"),
      timedOut: count("timed-out"),
      cancelled: count("cancelled"),
      skipped: count("skipped"),
      startedAt: w.startedAt,
      finishedAt: w.finishedAt,
      approval: w.approval,
    };
  });
  const problems: GatewayProblem[] = gateways
    .filter(([, g]) => PROBLEM_OUTCOMES.has(g.outcome))
    .map(([gateway, g]) => ({
      gateway,
      wave: g.wave,
      outcome: g.outcome,
      error: g.error,
      modules: g.modules,
    }))
    .sort((a, b) => a.wave - b.wave || a.gateway.localeCompare(b.gateway));
  const current = r.waves.find((w) => !w.finishedAt)?.index ?? r.waves.length;
  return {
    id: r.id,
    release: r.release,
    sequence: r.sequence,
    state: r.state,
    reason: r.reason,
    currentWave: current,
    waves,
    ineligible: r.ineligible,
    problems,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    updatedAt: now,
  };
}
