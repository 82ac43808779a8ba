/**
 * The gateway always keeps a module's previous firmware (design decision 4), so a remote rollback
 * works whatever happened since. On an A/B module the previous firmware normally sits in the spare
 * slot, which is exactly the slot the next install writes: before that write erases it, the `backup`
 * step reads it back into the image store (unless the store already has it) and records its digest
 * in the state. A rollback then re-flashes the spare slot from the store when the slot no longer
 * holds it, e.g. after an all-or-nothing bundle that failed left its image there.
 *
 * The image is checked against the length and CRC the gateway knows (from the boot record that made
 * it active, or from the release that installed it) before it is stored; firmware whose length the
 * gateway never learnt (a factory image on a module without a boot record) is read as the whole slot,
 * trailing erased bytes dropped, and cannot be checked.
 */
import { stm32Crc } from "../../signing/index.js";
import type { Bootloader } from "../../targets/index.js";
import { addr } from "../../util/logger.js";
import { readFlash, readSlotImage } from "./device-ops.js";
import { readBudgetMs, type JobEnv } from "./job-env.js";
import { backupProgress, backupShare } from "../status/progress.js";
import type { InstalledImage, JobRecord } from "../run/types.js";

/** The previous firmware an install is about to overwrite and the image store lacks; null when none. */
export async function previousToKeep(env: JobEnv, job: JobRecord): Promise<InstalledImage | null> {
  const layout = env.module.layout;
  const previous = job.previousBefore;
  // A restore writes the previous firmware itself; a single slot keeps its current image in `preparing`.
  if (layout.kind !== "ab" || job.kind !== "install" || !previous || previous.slot !== job.slot) return null;
  const slot = job.slot === "a" ? layout.slotA : layout.slotB;
  // Recorded for another layout (the configuration changed since): not what this slot holds.
  if (previous.address !== slot.address) return null;
  if (previous.digest !== null && (await env.images.has(previous.digest))) return null;
  return previous;
}

/** Watchdog budget of the backup step: the known image, else the whole slot. */
export function keepBudgetMs(env: JobEnv, previous: InstalledImage): number {
  const layout = env.module.layout;
  const slotSize = layout.kind === "ab" ? (previous.slot === "a" ? layout.slotA.size : layout.slotB.size) : 0;
  return (
    env.module.timeouts.enterMs + readBudgetMs(env.module, previous.length > 0 ? previous.length : slotSize)
  );
}

/**
 * Reads `previous` out of its slot into the image store and records it (digest, and length and CRC
 * when they were unknown) in the job and the state. A slot that no longer holds it is left alone with
 * a warning: there is nothing left to keep.
 */
export async function keepPrevious(
  env: JobEnv,
  job: JobRecord,
  bl: Bootloader,
  previous: InstalledImage,
): Promise<void> {
  const layout = env.module.layout;
  if (layout.kind !== "ab") return;
  const known = previous.length > 0 && previous.crc !== null;
  const size = known ? previous.length : (previous.slot === "a" ? layout.slotA : layout.slotB).size;
  // The backup is the first part of this install's bar (status/progress.ts), named as such.
  const share = backupShare(size, (job.slot ? job.target.images[job.slot]?.length : undefined) ?? size);
  env.report({ state: "backing-up", progress: backupProgress(0, size, share) });
  const onProgress = (done: number, total: number): void =>
    env.report({ progress: backupProgress(done, total, share) });
  const bytes = known
    ? await readFlash(bl, previous.address, previous.length, onProgress)
    : await readSlotImage(bl, previous.address, size, onProgress);
  const crc = stm32Crc(bytes);
  const what = { version: previous.version, slot: previous.slot, address: addr(previous.address) };
  if (known && crc !== previous.crc) {
    env.log.warn(
      { ...what, expected: previous.crc, found: crc },
      "the spare slot no longer holds the previous firmware; nothing to keep",
    );
    return;
  }
  if (bytes.length === 0) {
    env.log.warn(what, "the spare slot is empty; nothing to keep");
    return;
  }
  const digest = await env.images.put(bytes);
  const kept: InstalledImage = { ...previous, length: bytes.length, crc, digest };
  job.previousBefore = kept;
  await env.state.update((draft) => {
    const record = draft.modules[job.module];
    if (
      record?.previous &&
      record.previous.slot === previous.slot &&
      record.previous.address === previous.address &&
      record.previous.crc === previous.crc
    ) {
      record.previous = kept;
    }
  });
  env.log.info(
    { ...what, bytes: bytes.length, digest },
    "kept the previous firmware in the image store before overwriting its slot",
  );
}
