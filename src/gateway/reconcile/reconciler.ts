/**
 * Reconciliation (design decision 11): the gateway checks what each module actually holds against
 * what it believes (state.json, the journal's last run, the image store), at start-up and on a
 * schedule. A module that differs is reported by name (`drift`, `half-written`, `unknown-content`) on
 * its status and on `events`, and, with `repair: auto`, put back on the recorded firmware from the
 * image store. A module the gateway has no record of has its firmware learned (boot record, known
 * images, the health probe's answer) and recorded, so installed versions are known from the first start.
 *
 * Only runs when no run is in progress: an unfinished run is recovery's business (run/recovery.ts).
 */
import type { Logger } from "../../util/logger.js";
import { describeError } from "../../util/errors.js";
import type { GatewayConfig, ModuleConfig } from "../config/config.js";
import { moduleDevice, portOf, usartOf } from "../config/config.js";
import { GatewayError } from "../errors.js";
import { runHealthCheck } from "../module/health.js";
import { flashBudgetMs, startAddress, statusError } from "../module/job-env.js";
import type { ModuleLink, BootSession } from "../module/link.js";
import { withWatchdog } from "../module/watchdog.js";
import type { InstalledImage, RunRecord } from "../run/types.js";
import type { ImageStore } from "../store/image-store.js";
import type { StateStore } from "../store/state-store.js";
import { isStorageError } from "../store/storage-errors.js";
import type { CheckMethod, MismatchCode, ModuleFinding } from "./findings.js";
import { inspectModule, SlotReader, type Inspection } from "./inspect.js";
import { knownImages, storedImages } from "./known-images.js";
import { repairModule } from "./repair.js";

export interface ReconcileParts {
  config: GatewayConfig;
  log: Logger;
  state: StateStore;
  images: ImageStore;
  links: ReadonlyMap<string, ModuleLink>;
  /** The journal's last run (null when there is none or it cannot be read). */
  lastRun: RunRecord | null;
  signal?: AbortSignal;
}

/** Reconciles every configured module, one after the other (it is brief next to an update). */
export async function reconcileModules(parts: ReconcileParts): Promise<ModuleFinding[]> {
  const findings: ModuleFinding[] = [];
  for (const module of parts.config.modules) findings.push(await reconcileModule(parts, module));
  return findings;
}

export async function reconcileModule(parts: ReconcileParts, module: ModuleConfig): Promise<ModuleFinding> {
  const log = parts.log.child({ module: module.id, port: portOf(module), component: "reconcile" });
  const link = parts.links.get(module.id)!;
  const t = module.timeouts;
  const slotSize = module.layout.kind === "single" ? module.layout.slot.size : module.layout.slotA.size;
  const budget =
    t.enterMs + t.activateMs + t.healthMs + flashBudgetMs(module, moduleDevice(module), 0x08000000, slotSize);
  try {
    return await withWatchdog(
      {
        module: module.id,
        phase: "reconcile",
        ms: budget,
        signal: parts.signal,
        onExpire: () => link.abort(),
      },
      (signal) =>
        parts.config.reconcile.method === "probe"
          ? byProbe(parts, module, link, signal, log)
          : byDevice(parts, module, link, signal, log),
    );
  } catch (error) {
    log.warn({ err: describeError(error) }, "reconcile: module not checked");
    return { kind: "unchecked", module: module.id, error: statusError(error) };
  }
}

/** Through the bootloader: boot records, CRC of the booting slot, then the application probed if needed. */
async function byDevice(
  parts: ReconcileParts,
  module: ModuleConfig,
  link: ModuleLink,
  signal: AbortSignal,
  log: Logger,
): Promise<ModuleFinding> {
  const record = parts.state.module(module.id);
  const recorded = record.confirmed;
  const known = knownImages(module.id, record, parts.lastRun);
  const session = await link.enterBootloader(signal);
  let left = false;
  const leave = async (): Promise<void> => {
    left = true;
    await link.leave(session, startAddress(module, moduleDevice(module)));
  };
  try {
    refuseProtected(module, session);
    const reader = new SlotReader(
      session.bootloader,
      parts.config.reconcile.method === "readback" ? "readback" : "crc",
    );
    const slotSize = module.layout.kind === "single" ? module.layout.slot.size : module.layout.slotA.size;
    const seen = await inspectModule(module, reader, known, await storedImages(parts.images, slotSize));
    const method: CheckMethod = seen.method;
    const mismatch = classify(module, recorded, seen);
    if (mismatch) {
      let repair: { done: true; version: string | null } | { done: false; reason: string };
      if (parts.config.reconcile.repair !== "auto") repair = { done: false, reason: "repair: report" };
      else if (!recorded)
        repair = { done: false, reason: "the gateway has no record of this module's firmware" };
      else {
        const result = await repairModule(module, reader, recorded, parts.images, signal, log);
        repair = result.done ? { done: true, version: recorded.version } : result;
      }
      await leave();
      log.warn(
        { code: mismatch.code, found: mismatch.found, repair },
        "reconcile: module differs from the records",
      );
      return { kind: "mismatch", module: module.id, method, ...mismatch, repair };
    }
    await leave();
    if (recorded && seen.holds?.source === "confirmed" && recorded.version !== null)
      return { kind: "consistent", module: module.id, version: recorded.version, method };
    // No record (or no version in it): learn what runs, from the image it matches or from the application.
    const learned = await learn(module, link, recorded, seen, signal, log);
    if (learned && recorded?.version && learned.version !== null && learned.version !== recorded.version) {
      // A record the slot cannot be checked against (no CRC), and the application tells another
      // version: drift (a lost journal, a bench flash), never a silent re-learning.
      return {
        kind: "mismatch",
        module: module.id,
        code: "drift",
        message: `module ${module.id}: the application reports ${learned.version}, the gateway recorded ${recorded.version}`,
        found: learned.version,
        method: "probe",
        repair: { done: false, reason: "the recorded firmware's length and CRC are unknown" },
      };
    }
    if (!learned || learned.version === null) {
      if (recorded) return { kind: "consistent", module: module.id, version: recorded.version, method };
      return {
        kind: "mismatch",
        module: module.id,
        code: "unknown-content",
        message: `module ${module.id}: runs firmware the gateway has no record of, and neither a known image nor the application told its version`,
        found: null,
        method,
        repair: { done: false, reason: "the gateway has no record of this module's firmware" },
      };
    }
    await recordLearned(parts, module.id, learned, log);
    return {
      kind: "learned",
      module: module.id,
      installed: learned,
      method: seen.holds ? method : "probe",
    };
  } finally {
    if (!left) await link.closeSession(session);
  }
}

/** Names the difference between what the module holds and what the gateway recorded, if any. */
function classify(
  module: ModuleConfig,
  recorded: InstalledImage | null,
  seen: Inspection,
): { code: MismatchCode; message: string; found: string | null } | null {
  const at = `module ${module.id}`;
  const trial = seen.decision?.pendingTrial ? seen.decision.record : null;
  if (trial && (!recorded || trial.active !== recorded.slot || trial.imageCrc !== recorded.crc)) {
    return {
      code: "half-written",
      message: `${at}: a trial boot record for slot ${trial.active} is pending, but no update is in progress (an interrupted update whose journal is gone)`,
      found: null,
    };
  }
  if (seen.holds?.source === "confirmed") return null;
  if (seen.partial) {
    return {
      code: "half-written",
      message: `${at}: slot ${seen.boots} holds part of an image (an interrupted write)`,
      found: null,
    };
  }
  if (seen.holds) {
    return {
      code: "drift",
      message: `${at}: runs ${seen.holds.version ?? "unknown"} (${seen.holds.source}), the gateway recorded ${recorded?.version ?? "nothing"}`,
      found: seen.holds.version,
    };
  }
  if (seen.matchesBootRecord === false) {
    return {
      code: "drift",
      message: `${at}: slot ${seen.boots} does not hold the image its boot record describes (flashed by other means?)`,
      found: null,
    };
  }
  // Nothing to compare with: what runs is learned instead.
  if (!recorded || recorded.length === 0 || recorded.crc === null) return null;
  return {
    code: "drift",
    message: `${at}: slot ${seen.boots} holds firmware the gateway did not install (it recorded ${recorded.version ?? "unknown"} in slot ${recorded.slot})`,
    found: null,
  };
}

/** What the module runs, for a module the gateway has no versioned record of. Null: nothing learned. */
async function learn(
  module: ModuleConfig,
  link: ModuleLink,
  recorded: InstalledImage | null,
  seen: Inspection,
  signal: AbortSignal,
  log: Logger,
): Promise<InstalledImage | null> {
  const record = seen.decision?.record;
  const fromRecord = record && record.active === seen.boots && seen.matchesBootRecord === true;
  let version = seen.holds?.version ?? null;
  if (version === null) version = await probeVersion(module, link, null, signal, log);
  if (version === null && !seen.holds) return null;
  const base = seen.holds ?? recorded;
  return {
    version,
    securityVersion: base?.securityVersion ?? 0,
    slot: seen.boots,
    address: seen.address,
    length:
      seen.holds?.length ??
      (fromRecord ? record.imageLength : base?.address === seen.address ? base.length : 0),
    crc: seen.holds?.crc ?? (fromRecord ? record.imageCrc : base?.address === seen.address ? base.crc : null),
    digest: seen.holds?.digest ?? null,
    release: seen.holds?.release ?? null,
    sequence: seen.holds?.sequence ?? null,
  };
}

/**
 * Records what a module was found to run. A state disk that takes no writes (full, read-only) does
 * not unlearn it: the status still shows the version (the board keeps a learned version that the
 * state has no record of), and the next start learns it again.
 */
async function recordLearned(
  parts: ReconcileParts,
  id: string,
  learned: InstalledImage,
  log: Logger,
): Promise<void> {
  try {
    await parts.state.update((draft) => {
      draft.modules[id] = { confirmed: learned, previous: draft.modules[id]?.previous ?? null };
    });
  } catch (error) {
    if (!isStorageError(error)) throw error;
    log.warn(
      { err: describeError(error), version: learned.version },
      "reconcile: learned the module's version but cannot record it (state storage); the status shows it, the next start learns it again",
    );
  }
}

/** Without the bootloader: the application's own answer to the health probe. */
async function byProbe(
  parts: ReconcileParts,
  module: ModuleConfig,
  link: ModuleLink,
  signal: AbortSignal,
  log: Logger,
): Promise<ModuleFinding> {
  const recorded = parts.state.module(module.id).confirmed;
  if (module.health.kind !== "uart-probe")
    return { kind: "consistent", module: module.id, version: recorded?.version ?? null, method: "none" };
  const version = await probeVersion(module, link, null, signal, log);
  if (version === null)
    return {
      kind: "unchecked",
      module: module.id,
      error: {
        code: "health-check-failed",
        message: `module ${module.id}: the application did not tell its version`,
      },
    };
  if (recorded && recorded.version === version)
    return { kind: "consistent", module: module.id, version, method: "probe" };
  if (!recorded) {
    const layout = module.layout;
    const learned: InstalledImage = {
      version,
      securityVersion: 0,
      slot: layout.kind === "single" ? "single" : "a",
      address: layout.kind === "single" ? layout.slot.address : layout.slotA.address,
      length: 0,
      crc: null,
      digest: null,
      release: null,
      sequence: null,
    };
    // Without reading the boot records the slot is a guess: only the version is learned.
    if (layout.kind === "ab") return { kind: "consistent", module: module.id, version, method: "probe" };
    await recordLearned(parts, module.id, learned, log);
    return { kind: "learned", module: module.id, installed: learned, method: "probe" };
  }
  let repair: { done: true; version: string | null } | { done: false; reason: string } = {
    done: false,
    reason: "repair: report",
  };
  if (parts.config.reconcile.repair === "auto") {
    const session = await link.enterBootloader(signal);
    let left = false;
    try {
      refuseProtected(module, session);
      const result = await repairModule(
        module,
        new SlotReader(session.bootloader, "crc"),
        recorded,
        parts.images,
        signal,
        log,
      );
      left = true;
      await link.leave(session, startAddress(module, moduleDevice(module)));
      repair = result.done ? { done: true, version: recorded.version } : result;
    } finally {
      if (!left) await link.closeSession(session);
    }
  }
  return {
    kind: "mismatch",
    module: module.id,
    code: "drift",
    message: `module ${module.id}: the application reports ${version}, the gateway recorded ${recorded.version ?? "unknown"}`,
    found: version,
    method: "probe",
    repair,
  };
}

/** The version the running application reports to the uart-probe (any version accepted), or null. */
async function probeVersion(
  module: ModuleConfig,
  link: ModuleLink,
  expected: string | null,
  signal: AbortSignal,
  log: Logger,
): Promise<string | null> {
  const health = module.health;
  if (health.kind !== "uart-probe") return null;
  const result = await runHealthCheck(
    health,
    expected,
    {
      openApplication: () =>
        link.openApplication({
          path: health.path ?? usartOf(module).path,
          baud: health.baud,
          parity: health.parity,
        }),
      checkBootloader: () => Promise.resolve(),
    },
    signal,
    log,
  );
  return result.ok ? (result.version ?? expected) : null;
}

function refuseProtected(module: ModuleConfig, session: BootSession): void {
  if (session.bootloader.rdp === "level1")
    throw new GatewayError(
      "readout-protected",
      `module ${module.id}: readout-protected (RDP level 1); its content cannot be checked`,
      { module: module.id },
    );
}
