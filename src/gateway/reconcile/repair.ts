/**
 * Puts the firmware the gateway recorded back on a module that drifted from it: the slot is
 * re-flashed from the image store when it no longer holds the image, and an A/B module gets a
 * CONFIRMED boot record for that slot (written into the copy that does not decide the boot, so a
 * power cut here changes nothing: docs/module-firmware.md).
 */
import type { AbSlot, Bootloader } from "../../targets/index.js";
import { decideBoot } from "../../targets/index.js";
import type { Logger } from "../../util/logger.js";
import type { ModuleConfig } from "../config/config.js";
import { flashSlot, readBootRecords, writeNextBootRecord } from "../module/device-ops.js";
import type { InstalledImage } from "../run/types.js";
import type { ImageStore } from "../store/image-store.js";
import type { SlotReader } from "./inspect.js";

export type RepairResult = { done: true } | { done: false; reason: string };

export async function repairModule(
  module: ModuleConfig,
  reader: SlotReader,
  recorded: InstalledImage,
  images: ImageStore,
  signal: AbortSignal,
  log: Logger,
): Promise<RepairResult> {
  const bl: Bootloader = reader.bootloader;
  if (recorded.length === 0 || recorded.crc === null)
    return { done: false, reason: "the recorded firmware's length and CRC are unknown" };
  if ((await reader.holds(recorded)) !== true) {
    if (!recorded.digest || !(await images.has(recorded.digest)))
      return { done: false, reason: "the image store has no copy of the recorded firmware" };
    const bytes = await images.get(recorded.digest, { module: module.id });
    const result = await flashSlot(
      bl,
      bytes,
      recorded.address,
      `${module.id} ${recorded.version ?? "recorded firmware"} (repair)`,
      { verify: module.verify, signal, logger: log, onProgress: () => {} },
    );
    if (!result.ok) return { done: false, reason: `re-flashing failed: ${result.error.message}` };
    log.info(
      { version: recorded.version, slot: recorded.slot },
      "reconcile: re-flashed the recorded firmware",
    );
  }
  const layout = module.layout;
  if (layout.kind !== "ab") return { done: true };
  const slot = recorded.slot as AbSlot;
  const other: AbSlot = slot === "a" ? "b" : "a";
  const decision = decideBoot(await readBootRecords(bl, layout.bootRecord.copies));
  const r = decision.record;
  const confirmed =
    r !== null && !r.trial && r.active === slot && r.imageCrc === recorded.crc && decision.boots === slot;
  if (!confirmed) {
    const record = await writeNextBootRecord(
      bl,
      layout.bootRecord.copies,
      decision,
      {
        trial: false,
        active: slot,
        activeAddress: recorded.address,
        imageLength: recorded.length,
        imageCrc: recorded.crc,
        fallback: other,
        fallbackAddress: other === "a" ? layout.slotA.address : layout.slotB.address,
      },
      module.id,
    );
    log.info({ sequence: record.sequence, slot }, "reconcile: confirmed boot record written");
  }
  return { done: true };
}
