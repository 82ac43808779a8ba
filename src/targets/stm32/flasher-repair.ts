/**
 * What to erase again and rewrite when blocks came out wrong: the erase units under the bad regions,
 * grown until every plan block that touches one of them lies entirely in erased units (a 256-byte
 * block spans two 128-byte pages on L0, and a block written over unerased flash would fail).
 */
import { eraseUnits, type DeviceInfo, type EraseUnit } from "./device.js";
import type { FlashPlan, WriteBlock } from "./flasher-plan.js";

const touches = (u: EraseUnit, address: number, length: number): boolean =>
  u.start < address + length && u.start + u.size > address;

export function repairScope(
  device: DeviceInfo,
  plan: FlashPlan,
  bad: readonly WriteBlock[],
): { units: EraseUnit[]; blocks: WriteBlock[] } {
  const all = eraseUnits(device);
  const chosen = new Set(all.filter((u) => bad.some((b) => touches(u, b.address, b.data.length))));
  let blocks: WriteBlock[] = [];
  for (;;) {
    blocks = plan.blocks.filter((b) => [...chosen].some((u) => touches(u, b.address, b.data.length)));
    const before = chosen.size;
    for (const u of all)
      if (!chosen.has(u) && blocks.some((b) => touches(u, b.address, b.data.length))) chosen.add(u);
    if (chosen.size === before) break;
  }
  return { units: all.filter((u) => chosen.has(u)), blocks };
}
