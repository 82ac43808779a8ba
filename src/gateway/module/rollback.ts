/**
 * Putting a previously confirmed firmware back (rollback): after a failed job, for each committed
 * module of an all-or-nothing bundle (in reverse order), and for the signed `rollback` command.
 *
 *   preparing    enter the bootloader; decide whether the image must be rewritten: an A/B slot the
 *                gateway never touched in this run still holds it (checked by CRC when known); a single
 *                slot is re-flashed from the image store unless it still holds the image
 *   writing      only when needed: flash the image from the image store (never into the slot the
 *                module is booting)
 *   activating   A/B: a CONFIRMED boot record pointing at the restored slot (no trial: it ran before);
 *                start the firmware
 *   health-check verify the old firmware runs (its version, when known)
 *   committing   the state store
 */
import { decideBoot, type AbSlot, type BootDecision } from "../../targets/index.js";
import { flashSlot, readBootRecords, slotHolds, writeNextBootRecord } from "./device-ops.js";
import { GatewayError } from "../errors.js";
import { slotRange } from "./install-job.js";
import {
  flashBudgetMs,
  healthCheck,
  phase,
  SessionHolder,
  startAddress,
  statusError,
  type JobEnv,
} from "./job-env.js";
import { flashProgressReporter } from "../status/progress.js";
import type { InstalledImage, RestoreStep, UndoCursor } from "../run/types.js";
import type { StoredState } from "../store/state-store.js";

export interface RestorePlan {
  module: string;
  image: InstalledImage;
  /** Journalled progress; mutated as steps advance. */
  cursor: UndoCursor;
  /** The state change once the module runs the image again. */
  commit: (draft: StoredState) => void;
}

/** Runs (or resumes) a restore. Throws GatewayError "rollback-failed" (the cause in its context) when it cannot. */
export async function runRestore(env: JobEnv, plan: RestorePlan): Promise<void> {
  try {
    await restoreSteps(env, plan);
  } catch (error) {
    if (error instanceof GatewayError && error.code === "rollback-failed") throw error;
    const cause = statusError(error);
    throw new GatewayError(
      "rollback-failed",
      `module ${plan.module}: rolling back to ${plan.image.version ?? "the previous firmware"} failed: ${cause.message}`,
      {
        module: plan.module,
        cause: cause.code,
      },
      { cause: error },
    );
  }
}

async function restoreSteps(env: JobEnv, plan: RestorePlan): Promise<void> {
  const holder = new SessionHolder(env);
  const { cursor, image } = plan;
  const t = env.module.timeouts;
  const advance = async (next: RestoreStep): Promise<void> => {
    cursor.step = next;
    await env.checkpoint(`${plan.module}: rollback ${next}`);
  };
  env.report({ state: "rolling-back", progress: null, targetVersion: image.version });
  try {
    if (cursor.step === "preparing") {
      await advance("preparing");
      await phase(env, "rollback preparing", t.enterMs * 2, async (signal) => {
        cursor.rewrite = await needsRewrite(env, holder, plan, signal);
      });
      await advance(cursor.rewrite ? "writing" : "activating");
    }
    if (cursor.step === "writing") {
      await phase(
        env,
        "rollback writing",
        flashBudgetMs(env.module, env.device, image.address, image.length) + t.enterMs,
        (signal) => rewrite(env, holder, plan, signal),
      );
      await advance("activating");
    }
    if (cursor.step === "activating") {
      await phase(env, "rollback activating", t.activateMs + t.enterMs, (signal) =>
        activate(env, holder, plan, signal),
      );
      await advance("health-check");
    }
    if (cursor.step === "health-check") {
      await phase(env, "rollback health-check", t.healthMs + t.enterMs, async (signal) => {
        const reported = await healthCheck(env, holder, image.version, signal, "rolling-back");
        // Firmware the gateway never installed: now it knows its version (journalled with the next step).
        if (image.version === null && reported !== null) image.version = reported;
        if (holder.open) await holder.leave(startAddress(env.module, env.device), signal);
      });
      await advance("committing");
    }
    if (cursor.step === "committing") {
      await env.state.update(plan.commit);
      await advance("done");
    }
  } finally {
    await holder.close();
  }
}

async function needsRewrite(
  env: JobEnv,
  holder: SessionHolder,
  plan: RestorePlan,
  signal: AbortSignal,
): Promise<boolean> {
  const { bootloader } = await holder.get(signal);
  const { image } = plan;
  const layout = env.module.layout;
  if (layout.kind === "ab") {
    const decision = decideBoot(await readBootRecords(bootloader, layout.bootRecord.copies));
    if (bootsWithoutTrial(decision, image.slot)) return false; // already the confirmed slot
    const holds = await slotHolds(bootloader, image);
    // Unknown length: a factory image the gateway never wrote; the A/B job never touches the slot it leaves.
    if (holds !== false) return false;
    if (decision.boots === image.slot) {
      throw new GatewayError(
        "rollback-failed",
        `module ${plan.module}: slot ${image.slot} no longer holds ${image.version ?? "the previous image"} and the module boots it; refusing to overwrite the running slot`,
        {
          module: plan.module,
          slot: image.slot,
        },
      );
    }
  } else if ((await slotHolds(bootloader, image)) === true) {
    return false;
  }
  if (!image.digest || !(await env.images.has(image.digest))) {
    throw new GatewayError(
      "no-previous-image",
      `module ${plan.module}: the previous image is not in the image store, so slot ${image.slot} cannot be rewritten`,
      {
        module: plan.module,
        slot: image.slot,
      },
    );
  }
  return true;
}

async function rewrite(
  env: JobEnv,
  holder: SessionHolder,
  plan: RestorePlan,
  signal: AbortSignal,
): Promise<void> {
  const { bootloader } = await holder.get(signal);
  const { image } = plan;
  const bytes = await env.images.get(image.digest!, { module: plan.module });
  const result = await flashSlot(
    bootloader,
    bytes,
    image.address,
    `${plan.module} rollback to ${image.version ?? "previous"}`,
    {
      verify: env.module.verify,
      signal,
      logger: env.log,
      onProgress: flashProgressReporter(env),
    },
  );
  // Keep the module's state "rolling-back" while the flasher reports erase/write/verify.
  env.report({ state: "rolling-back" });
  if (!result.ok) {
    throw new GatewayError(
      "rollback-failed",
      `module ${plan.module}: re-flashing the previous image failed: ${result.error.message}`,
      {
        module: plan.module,
        previous: result.previous,
        cause: result.error.code,
      },
    );
  }
}

async function activate(
  env: JobEnv,
  holder: SessionHolder,
  plan: RestorePlan,
  signal: AbortSignal,
): Promise<void> {
  const layout = env.module.layout;
  const { image } = plan;
  if (layout.kind === "ab") {
    const { bootloader } = await holder.get(signal);
    const decision = decideBoot(await readBootRecords(bootloader, layout.bootRecord.copies));
    const slot = image.slot as AbSlot;
    if (!bootsWithoutTrial(decision, slot)) {
      const other: AbSlot = slot === "a" ? "b" : "a";
      const next = await writeNextBootRecord(
        bootloader,
        layout.bootRecord.copies,
        decision,
        {
          trial: false,
          active: slot,
          activeAddress: slotRange(layout, slot).address,
          imageLength: image.length,
          imageCrc: image.crc ?? 0,
          fallback: other,
          fallbackAddress: slotRange(layout, other).address,
        },
        plan.module,
      );
      env.log.info({ sequence: next.sequence, slot }, "confirmed boot record for the previous slot written");
    }
  }
  env.report({ state: "rolling-back" });
  await holder.leave(startAddress(env.module, env.device), signal);
}

/**
 * The selector boots `slot` for good already: a confirmed record for it, or no valid record at all and
 * slot A (the selector's default). A trial record, even one falling back to `slot`, is replaced.
 */
function bootsWithoutTrial(decision: BootDecision, slot: InstalledImage["slot"]): boolean {
  return decision.boots === slot && !decision.record?.trial;
}

/**
 * A module a job entered but never wrote (it failed or was interrupted before choosing a slot): leave
 * the bootloader so its firmware runs again, and check it (its version, when the state knows it).
 */
export async function releaseModule(env: JobEnv): Promise<void> {
  const holder = new SessionHolder(env);
  const t = env.module.timeouts;
  try {
    await phase(env, "release", t.enterMs + t.activateMs, async (signal) => {
      try {
        await holder.leave(startAddress(env.module, env.device), signal);
      } catch (error) {
        // Go refused (readout protection) or no session: a reset with BOOT0 low, where the lines allow it.
        if (env.module.entry.method !== "gpio" && env.module.entry.method !== "serial-lines") throw error;
        await env.link.resetIntoApplication();
      }
    });
    const version = env.state.module(env.module.id).confirmed?.version ?? null;
    await phase(env, "release health-check", t.healthMs + t.enterMs, async (signal) => {
      await healthCheck(env, holder, version, signal, "rolling-back");
      if (holder.open) await holder.leave(startAddress(env.module, env.device), signal);
    });
  } finally {
    await holder.close();
  }
}
