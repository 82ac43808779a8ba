/** The status view of a slot write: what differential flashing checked, skipped, erased and wrote. */
import type { FlashStats } from "../../targets/index.js";
import type { FlashSummary } from "./types.js";

export function flashSummary(stats: FlashStats): FlashSummary {
  const units = stats.units;
  return {
    unitsCovered: units?.covered ?? 0,
    unitsChecked: units?.checked ?? 0,
    unitsSkipped: units?.skipped ?? 0,
    unitsErased: units?.erased ?? stats.eraseUnits,
    unitsWritten: units?.written ?? 0,
    wireBytes: stats.wire.sent + stats.wire.received,
    elapsedMs: stats.elapsedMs,
    fullEstimateMs: stats.fullEstimateMs ?? null,
  };
}
