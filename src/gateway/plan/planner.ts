/**
 * Turns a verified manifest into jobs for this gateway's modules, before anything is touched:
 * which modules, in which order, after which others, on which bus. verifyBundle (src/manifest) has
 * checked signatures, freshness, replay, floors and dependencies per module type; this checks each
 * configured module (layout kind, slot addresses and sizes, product ID), so a bundle that cannot
 * apply is rejected with no module touched. `nextJobs` is the scheduler:
 * one module at a time per bus, different buses in parallel, within the bundle's parallelism.
 */
import { updateStages } from "../../manifest/index.js";
import type { Manifest, ModuleEntry, SlotImage } from "../../manifest/index.js";
import { toHex } from "../../signing/index.js";
import { addr } from "../../util/logger.js";
import type { ModuleConfig } from "../config/config.js";
import { busOf, moduleDevice } from "../config/config.js";
import type { GatewayErrorCode } from "../errors.js";
import type { ImageRef, JobRecord, JobTarget } from "../run/types.js";
import type { ModuleRecord } from "../store/state-store.js";
import type { Slot } from "../status/types.js";

export type PlanResult =
  | {
      ok: true;
      jobs: JobRecord[];
      /** Modules already running the release (nothing to do). */ upToDate: string[];
    }
  | { ok: false; code: GatewayErrorCode; message: string };

export function planBundle(
  manifest: Manifest,
  modules: readonly ModuleConfig[],
  installed: (id: string) => ModuleRecord,
): PlanResult {
  const matched = modules.filter((m) => Object.hasOwn(manifest.modules, m.type));
  if (matched.length === 0) {
    const types = Object.keys(manifest.modules).join(", ");
    return {
      ok: false,
      code: "not-applicable",
      message: `release ${manifest.release} updates module types (${types}) this gateway does not have`,
    };
  }
  const problems: Array<{ code: GatewayErrorCode; text: string }> = [];
  const jobs: JobRecord[] = [];
  const upToDate: string[] = [];
  for (const module of matched) {
    const entry = manifest.modules[module.type]!;
    const target = jobTarget(entry, manifest.release, manifest.sequence);
    problems.push(...entryProblems(module, entry));
    if (isUpToDate(installed(module.id), target)) {
      upToDate.push(module.id);
      continue;
    }
    jobs.push(newJob(module, target, "install"));
  }
  if (problems.length > 0) {
    const code = problems.find((p) => p.code === "wrong-device")?.code ?? problems[0]!.code;
    return { ok: false, code, message: problems.map((p) => p.text).join("; ") };
  }
  linkOrder(jobs, manifest);
  return { ok: true, jobs, upToDate };
}

/** A fresh job record (also used for rollback jobs, with kind "restore"). */
export function newJob(module: ModuleConfig, target: JobTarget, kind: JobRecord["kind"]): JobRecord {
  return {
    module: module.id,
    moduleType: module.type,
    bus: busOf(module),
    dependsOn: [],
    kind,
    target,
    slot: null,
    from: null,
    previousBefore: null,
    step: "pending",
    bootSequence: null,
    attempts: 0,
    verification: null,
    error: null,
    note: null,
    undo: null,
  };
}

export function jobTarget(entry: ModuleEntry, release: string | null, sequence: number | null): JobTarget {
  const images: Partial<Record<Slot, ImageRef>> = {};
  if ("single" in entry.slots) images.single = imageRef(entry.slots.single);
  else {
    images.a = imageRef(entry.slots.a);
    images.b = imageRef(entry.slots.b);
  }
  return { version: entry.version, release, sequence, securityVersion: entry.securityVersion, images };
}

function imageRef(image: SlotImage): ImageRef {
  const ref: ImageRef = {
    digest: toHex(image.sha256),
    length: image.size,
    crc: image.stm32Crc,
    address: image.address,
  };
  if ("url" in image.source) ref.url = image.source.url;
  return ref;
}

/** The module already runs this release: same version, and the image of its confirmed slot is the one we would write there. */
export function isUpToDate(record: ModuleRecord, target: JobTarget): boolean {
  const c = record.confirmed;
  if (!c || c.version !== target.version || c.digest === null) return false;
  return target.images[c.slot]?.digest === c.digest;
}

function entryProblems(
  module: ModuleConfig,
  entry: ModuleEntry,
): Array<{ code: GatewayErrorCode; text: string }> {
  const problems: Array<{ code: GatewayErrorCode; text: string }> = [];
  const device = moduleDevice(module);
  if (entry.device.pid !== device.pid) {
    problems.push({
      code: "wrong-device",
      text: `module ${module.id}: the release is for product ID 0x${entry.device.pid.toString(16)}, the module is configured as ${device.name} (0x${device.pid.toString(16)})`,
    });
  }
  const layout = module.layout;
  const slots: Array<[string, SlotImage | undefined, { address: number; size: number }]> =
    layout.kind === "single"
      ? [["single", "single" in entry.slots ? entry.slots.single : undefined, layout.slot]]
      : [
          ["a", "a" in entry.slots ? entry.slots.a : undefined, layout.slotA],
          ["b", "b" in entry.slots ? entry.slots.b : undefined, layout.slotB],
        ];
  for (const [name, image, slot] of slots) {
    if (!image) {
      problems.push({
        code: "not-applicable",
        text: `module ${module.id}: its layout is "${layout.kind}" but the release carries no "${name}" slot image for type ${module.type}`,
      });
      continue;
    }
    if (image.address !== slot.address) {
      problems.push({
        code: "not-applicable",
        text: `module ${module.id}: slot ${name} image is linked for ${addr(image.address)}, the slot starts at ${addr(slot.address)}`,
      });
    }
    if (image.size > slot.size) {
      problems.push({
        code: "not-applicable",
        text: `module ${module.id}: slot ${name} image is ${image.size} bytes, the slot holds ${slot.size}`,
      });
    }
  }
  return problems;
}

/**
 * Fills `dependsOn` with every job of an earlier stage (a lower `order`; the manifest layer has made
 * sure every dependency has a strictly lower order) and sorts the jobs by stage.
 */
function linkOrder(jobs: JobRecord[], manifest: Manifest): void {
  const stages = updateStages(manifest);
  const stageOf = (job: JobRecord): number => stages.findIndex((types) => types.includes(job.moduleType));
  jobs.sort((x, y) => stageOf(x) - stageOf(y));
  for (const job of jobs)
    job.dependsOn = jobs.filter((other) => stageOf(other) < stageOf(job)).map((o) => o.module);
}

/**
 * Jobs that may start now: pending, all dependencies committed or up to date, their bus free, and
 * fewer than `limit` jobs running. In plan order, so the outcome is deterministic.
 */
export function nextJobs(
  jobs: readonly JobRecord[],
  running: ReadonlySet<string>,
  limit: number,
): JobRecord[] {
  const busy = new Set(jobs.filter((j) => running.has(j.module)).map((j) => j.bus));
  const done = new Set(
    jobs.filter((j) => j.step === "committed" || j.step === "skipped").map((j) => j.module),
  );
  const known = new Set(jobs.map((j) => j.module));
  const picked: JobRecord[] = [];
  for (const job of jobs) {
    if (running.size + picked.length >= limit) break;
    if (job.step !== "pending" || running.has(job.module) || busy.has(job.bus)) continue;
    if (!job.dependsOn.every((d) => done.has(d) || !known.has(d))) continue;
    picked.push(job);
    busy.add(job.bus);
  }
  return picked;
}
