/** Text views of a campaign: the live per-wave table and the final report. */
import type { CampaignSnapshot } from "../../contract/campaign.js";

export function renderCampaign(s: CampaignSnapshot): string {
  const lines: string[] = [];
  lines.push(
    `campaign ${s.id}: ${s.release} (sequence ${s.sequence}) — ${s.state}${s.reason ? ` — ${s.reason}` : ""}`,
  );
  const header = [
    "wave",
    "targets",
    "pending",
    "in progress",
    "committed",
    "already",
    "failed",
    "rejected",
    "timed out",
    "cancelled",
    "skipped",
  ];
  const rows = s.waves.map((w) =>
    [
      `${w.index}${w.name ? ` ${w.name}` : ""}${w.approval ? " (approval)" : ""}${w.index === s.currentWave && !w.finishedAt && w.startedAt ? " ◀" : ""}`,
      w.targets,
      w.pending,
      w.inProgress,
      w.committed,
      w.already,
      w.failed,
      w.rejected,
      w.timedOut,
      w.cancelled,
      w.skipped,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  lines.push(fmt(header), ...rows.map(fmt));
  if (s.ineligible.length > 0) {
    lines.push(`ineligible (${s.ineligible.length}):`);
    for (const i of s.ineligible.slice(0, 20)) lines.push(`  ${i.gateway}: ${i.reason}`);
    if (s.ineligible.length > 20) lines.push(`  … and ${s.ineligible.length - 20} more`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderReport(s: CampaignSnapshot): string {
  const lines = [renderCampaign(s).trimEnd()];
  if (s.problems.length > 0) {
    lines.push(`problems (${s.problems.length}):`);
    for (const p of s.problems) {
      const modules = p.modules
        .map((m) => `${m.module} ${m.state}${m.error ? ` (${m.error.code})` : ""}`)
        .join(", ");
      lines.push(
        `  wave ${p.wave} ${p.gateway}: ${p.outcome}${p.error ? ` — ${p.error.code}: ${p.error.message}` : ""}${modules ? ` — ${modules}` : ""}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
