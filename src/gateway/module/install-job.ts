/**
 * The per-module install state machine (design decisions 4 and 6). Each step is journalled before
 * it acts, and each step can be re-run after a crash from what the journal says:
 *
 *   preparing    enter the bootloader, check identity and RDP; A/B: read the boot records and choose the
 *                inactive slot; single: keep the current image in the image store (read back if needed)
 *   backup       A/B, only when the inactive slot holds the module's previous firmware and the image
 *                store has no copy: read it back into the store first (keep-previous.ts)
 *   writing      erase + write + verify the chosen slot (A/B: the active slot is never touched)
 *   activating   A/B: write a TRIAL boot record for the new slot into the copy that is not the winner; start
 *                the firmware through the selector. single: start the slot
 *   health-check the module's check against the new version
 *   committing   A/B: write a CONFIRMED record (the commit point on the device); then the state store
 *   committed
 *
 * A crash between any two steps leaves the module booting either the old confirmed firmware or the
 * new one on trial (which reverts by itself on the next reset), never nothing; recovery.ts decides.
 */
import { decideBoot, type AbSlot } from "../../targets/index.js";
import type { AbLayoutConfig } from "../config/config.js";
import {
  crcMethod,
  readBootRecords,
  readSlotImage,
  slotHolds,
  writeNextBootRecord,
  flashSlot,
} from "./device-ops.js";
import { GatewayError } from "../errors.js";
import {
  flashBudgetMs,
  healthCheck,
  phase,
  readBudgetMs,
  SessionHolder,
  startAddress,
  type JobEnv,
} from "./job-env.js";
import { stm32Crc } from "../../signing/index.js";
import type { ImageRef, InstalledImage, JobRecord } from "../run/types.js";
import type { Bootloader } from "../../targets/index.js";
import { backupProgress, backupShare, flashProgressReporter } from "../status/progress.js";
import { flashSummary } from "../status/flash-summary.js";
import type { KnownContent } from "../../targets/index.js";
import { keepBudgetMs, keepPrevious, previousToKeep } from "./keep-previous.js";

/**
 * Runs (or resumes) an install job until it is committed; throws a GatewayError when it fails.
 * `onCommitted` runs just before the journal records the job committed (the run's commit order goes
 * into that same write, so an undo after a crash knows every committed module).
 */
export async function runInstall(
  env: JobEnv,
  job: JobRecord,
  resumed: boolean,
  onCommitted: () => void,
): Promise<void> {
  const holder = new SessionHolder(env);
  const t = env.module.timeouts;
  try {
    if (job.step === "pending" || job.step === "preparing") {
      await step(env, job, "preparing");
      await phase(env, "preparing", t.enterMs + backupBudget(env, job), (signal) =>
        prepare(env, job, holder, signal),
      );
      await step(env, job, (await previousToKeep(env, job)) ? "backup" : "writing");
      resumed = false;
    }
    if (job.step === "backup") {
      const previous = await previousToKeep(env, job);
      if (previous) {
        await phase(env, "backup", keepBudgetMs(env, previous), async (signal) =>
          keepPrevious(env, job, (await holder.get(signal)).bootloader, previous),
        );
      }
      await step(env, job, "writing");
      resumed = false;
    }
    if (job.step === "writing") {
      const image = targetImage(job);
      await phase(
        env,
        "writing",
        flashBudgetMs(env.module, env.device, image.address, image.length) + t.enterMs,
        (signal) => write(env, job, holder, image, resumed, signal),
      );
      await step(env, job, "activating");
    }
    if (job.step === "health-check" && resumed && env.module.layout.kind === "ab") {
      // Interrupted by a restart: the trial may have been used up meanwhile (any reset of the module
      // after the selector marked it falls back), so the old firmware would answer and a good release
      // would be blamed. Start over from a fresh trial record; never report the interruption as the
      // firmware's failure.
      job.note = "health check interrupted by a restart: repeated with a fresh trial boot";
      env.report({ note: job.note });
      env.log.warn({ slot: job.slot }, job.note);
      await step(env, job, "activating");
    }
    if (job.step === "activating") {
      await phase(env, "activating", t.activateMs + t.enterMs, (signal) =>
        activate(env, job, holder, signal),
      );
      await step(env, job, "health-check");
    }
    if (job.step === "health-check") {
      await phase(env, "health-check", t.healthMs + t.enterMs, async (signal) => {
        const reported = await healthCheck(env, holder, job.target.version, signal);
        // Restoring firmware the gateway never installed: the probe told its version.
        if (job.target.version === null && reported !== null) job.target.version = reported;
      });
      await step(env, job, "committing");
    }
    if (job.step === "committing") {
      env.report({ state: "activating", progress: null });
      await phase(env, "committing", t.activateMs + t.enterMs, (signal) => commit(env, job, holder, signal));
      onCommitted();
      await step(env, job, "committed");
    }
  } finally {
    await holder.close();
  }
}

async function step(env: JobEnv, job: JobRecord, next: JobRecord["step"]): Promise<void> {
  job.step = next;
  await env.checkpoint(`${job.module}: ${next}`);
}

function targetImage(job: JobRecord): ImageRef {
  const image = job.slot ? job.target.images[job.slot] : undefined;
  if (!image)
    throw new GatewayError("internal", `module ${job.module}: no image chosen for slot ${job.slot ?? "?"}`, {
      module: job.module,
    });
  return image;
}

function backupBudget(env: JobEnv, job: JobRecord): number {
  const layout = env.module.layout;
  return layout.kind === "single" && !job.from ? readBudgetMs(env.module, layout.slot.size) : 0;
}

async function prepare(
  env: JobEnv,
  job: JobRecord,
  holder: SessionHolder,
  signal: AbortSignal,
): Promise<void> {
  const { bootloader } = await holder.get(signal);
  const layout = env.module.layout;
  const known = env.state.module(job.module).confirmed;
  job.previousBefore = env.state.module(job.module).previous;
  if (layout.kind === "ab") {
    const decision = decideBoot(await readBootRecords(bootloader, layout.bootRecord.copies));
    const active = decision.boots;
    if (known && known.slot !== active) {
      env.log.warn(
        { stateSlot: known.slot, deviceSlot: active },
        "the module boots another slot than the state says; trusting the module",
      );
    }
    job.slot = active === "a" ? "b" : "a";
    if (!job.target.images[job.slot]) {
      // A rollback whose previous firmware sits in the slot the module boots now: nothing to go back to.
      throw new GatewayError(
        "no-previous-image",
        `module ${job.module}: the module boots slot ${active}, which is where the firmware to restore would be`,
        {
          module: job.module,
          slot: active,
        },
      );
    }
    const record = decision.record;
    const sameAsKnown = known?.slot === active;
    job.from = {
      version: sameAsKnown ? known.version : null,
      securityVersion: sameAsKnown ? known.securityVersion : 0,
      slot: active,
      address: slotRange(layout, active).address,
      length: record && record.active === active ? record.imageLength : sameAsKnown ? known.length : 0,
      crc: record && record.active === active ? record.imageCrc : sameAsKnown ? known.crc : null,
      digest: sameAsKnown ? known.digest : null,
      release: sameAsKnown ? known.release : null,
      sequence: sameAsKnown ? known.sequence : null,
    };
    env.log.info(
      { active, write: job.slot, bootRecordSequence: decision.highestSequence },
      "A/B: writing the inactive slot",
    );
    return;
  }
  job.slot = "single";
  job.from = await backupSingle(env, bootloader, known, layout.slot, job.target.images.single?.length);
  const from = job.from;
  if (from.digest && known?.digest !== from.digest) {
    // state.json learns the kept image (length, CRC, image store copy) before the slot is erased: if
    // the journal is lost mid-run, reconciliation can still tell and repair the slot from it.
    await env.state.update((draft) => {
      draft.modules[job.module] = { confirmed: from, previous: draft.modules[job.module]?.previous ?? null };
    });
  }
}

/**
 * The previous image of a single-slot module must be in the image store before the first erase.
 * The confirmed image the state names is reused when the store has it and the module still holds it;
 * otherwise the slot is read back.
 */
async function backupSingle(
  env: JobEnv,
  bl: Bootloader,
  known: InstalledImage | null,
  slot: { address: number; size: number },
  imageLength: number | undefined,
): Promise<InstalledImage> {
  if (known?.digest && (await env.images.has(known.digest)) && (await slotHolds(bl, known)) === true)
    return known;
  const share = backupShare(slot.size, imageLength ?? slot.size);
  env.report({ state: "backing-up", progress: backupProgress(0, slot.size, share) });
  const bytes = await readSlotImage(bl, slot.address, slot.size, (done, total) =>
    env.report({ progress: backupProgress(done, total, share) }),
  );
  const digest = await env.images.put(bytes);
  env.log.info(
    { bytes: bytes.length, digest },
    "kept the current firmware in the image store before erasing",
  );
  return {
    version: known?.version ?? null,
    securityVersion: known?.securityVersion ?? 0,
    slot: "single",
    address: slot.address,
    length: bytes.length,
    crc: stm32Crc(bytes),
    digest,
    release: known?.release ?? null,
    sequence: known?.sequence ?? null,
  };
}

async function write(
  env: JobEnv,
  job: JobRecord,
  holder: SessionHolder,
  image: ImageRef,
  resumed: boolean,
  signal: AbortSignal,
): Promise<void> {
  const { bootloader } = await holder.get(signal);
  // A resumed job, or a rollback to the image the inactive slot kept: no need to write what is there.
  if (resumed || job.kind === "restore") {
    const holds = await slotHolds(bootloader, image);
    // Unknown length: a factory image in a slot the gateway never wrote, and an A/B job never writes the slot it leaves.
    if (holds === true || (holds === null && job.kind === "restore")) {
      env.log.info({ slot: job.slot }, "the slot already holds the image: not written again");
      // Checked on the device against the image's CRC, just as a written image would be.
      job.verification = holds ? crcMethod(bootloader) : "none";
      env.report({ verification: job.verification });
      return;
    }
  }
  if (!image.digest) {
    throw new GatewayError(
      "no-previous-image",
      `module ${job.module}: slot ${job.slot} no longer holds the image and the image store has no copy`,
      {
        module: job.module,
        slot: job.slot,
      },
    );
  }
  const bytes = await env.images.get(image.digest, { module: job.module });
  // A resumed or retried write goes through the same per-unit check: units already written are skipped.
  const known = resumed ? [] : await knownContent(env, job, bootloader, image);
  const result = await flashSlot(
    bootloader,
    bytes,
    image.address,
    `${job.module} ${job.target.version} slot ${job.slot}`,
    {
      verify: env.module.verify,
      diff: env.module.diff,
      known,
      trustKnownContent: env.module.trustKnownContent,
      signal,
      logger: env.log,
      onProgress: flashProgressReporter(env),
    },
  );
  env.report({ flash: flashSummary(result.stats) });
  if (!result.ok) {
    throw new GatewayError(
      "flash-failed",
      `module ${job.module}: writing slot ${job.slot}: ${result.error.message}`,
      {
        module: job.module,
        slot: job.slot,
        previous: result.previous,
        cause: result.error.code,
      },
    );
  }
  job.verification = result.stats.verifiedBy;
  const { bytesWritten, blocksWritten, blocksSkipped, retries, verifiedBy, elapsedMs } = result.stats;
  env.report({
    verification: verifiedBy,
    lastFlash: { bytesWritten, blocksWritten, blocksSkipped, retries, verifiedBy, elapsedMs },
  });
}

/**
 * What the gateway's records say the slot about to be written holds, from its image store: only
 * asked for when the policy trusts such records and the bootloader cannot be asked (no Get
 * Checksum), since the device's own answer always wins. Images the gateway wrote (or read back) were
 * written by the flasher, which erases whole units, so the rest of their last unit is erased.
 */
async function knownContent(
  env: JobEnv,
  job: JobRecord,
  bl: Bootloader,
  image: ImageRef,
): Promise<KnownContent[]> {
  if (!env.module.trustKnownContent || env.module.diff === "off" || crcMethod(bl) === "crc") return [];
  const records = env.state.module(job.module);
  const candidates = [job.from, records.confirmed, job.previousBefore, records.previous];
  const held = candidates.find(
    (c) => c?.digest && c.slot === job.slot && c.address === image.address && c.length > 0,
  );
  if (!held?.digest || !(await env.images.has(held.digest))) return [];
  const data = await env.images.get(held.digest, { module: job.module });
  env.log.info({ slot: job.slot, version: held.version }, "the records say the slot holds this image");
  return [{ address: held.address, data, tailErased: true }];
}

async function activate(
  env: JobEnv,
  job: JobRecord,
  holder: SessionHolder,
  signal: AbortSignal,
): Promise<void> {
  env.report({ state: "activating", progress: null });
  const layout = env.module.layout;
  if (layout.kind === "ab") {
    const { bootloader } = await holder.get(signal);
    const decision = decideBoot(await readBootRecords(bootloader, layout.bootRecord.copies));
    const slot = job.slot as AbSlot;
    const alreadyPending = decision.pendingTrial && decision.record?.active === slot;
    if (!alreadyPending) {
      const image = targetImage(job);
      const from = job.from!;
      const record = await writeNextBootRecord(
        bootloader,
        layout.bootRecord.copies,
        decision,
        {
          trial: true,
          active: slot,
          activeAddress: image.address,
          imageLength: image.length,
          imageCrc: image.crc,
          fallback: from.slot as AbSlot,
          fallbackAddress: from.address,
        },
        job.module,
      );
      job.bootSequence = record.sequence;
      env.log.info({ sequence: record.sequence, slot }, "trial boot record written");
    }
  }
  await holder.leave(startAddress(env.module, env.device), signal);
}

async function commit(
  env: JobEnv,
  job: JobRecord,
  holder: SessionHolder,
  signal: AbortSignal,
): Promise<void> {
  const layout = env.module.layout;
  const image = targetImage(job);
  if (layout.kind === "ab") {
    const { bootloader } = await holder.get(signal);
    const decision = decideBoot(await readBootRecords(bootloader, layout.bootRecord.copies));
    const slot = job.slot as AbSlot;
    const done =
      decision.record &&
      !decision.record.trial &&
      decision.record.active === slot &&
      decision.record.imageCrc === image.crc;
    if (!done) {
      const record = await writeNextBootRecord(
        bootloader,
        layout.bootRecord.copies,
        decision,
        {
          trial: false,
          active: slot,
          activeAddress: image.address,
          imageLength: image.length,
          imageCrc: image.crc,
          fallback: job.from!.slot as AbSlot,
          fallbackAddress: job.from!.address,
        },
        job.module,
      );
      job.bootSequence = record.sequence;
      env.log.info({ sequence: record.sequence, slot }, "confirmed boot record written");
    }
    await holder.leave(startAddress(env.module, env.device), signal);
  } else if (holder.open) {
    // bootloader-only health check on a single module: start the application again.
    await holder.leave(startAddress(env.module, env.device), signal);
  }
  const installed: InstalledImage = {
    version: job.target.version,
    securityVersion: job.target.securityVersion,
    slot: job.slot!,
    address: image.address,
    length: image.length,
    crc: image.crc,
    digest: image.digest,
    release: job.target.release,
    sequence: job.target.sequence,
  };
  await env.state.update((draft) => {
    draft.modules[job.module] = {
      confirmed: installed,
      previous: job.from ?? draft.modules[job.module]?.confirmed ?? null,
    };
  });
  env.report({ version: job.target.version, targetVersion: null });
}

export function slotRange(layout: AbLayoutConfig, slot: AbSlot): { address: number; size: number } {
  return slot === "a" ? layout.slotA : layout.slotB;
}
