/**
 * Flashes a FirmwareImage through a Bootloader session: plan (fit check, erase units, blocks), erase,
 * write, verify, optionally Go. Expected failures come back as a FlashResult that says what became of
 * the previous firmware (untouched, replaced, partly erased); progress and retries are events.
 *
 * Verification never reports success it did not do: `verify: "none"` must be asked for and the result
 * says so. A mismatch found by verification is repaired once by default (erase the units concerned
 * again and rewrite their blocks), then verified again.
 *
 * Before any erase the link is proven (link-proof.ts), and with `diff: "auto"` (the default) only the
 * erase units whose content differs from the image are erased and written (flasher-diff.ts); the
 * final verification still covers the whole image.
 */
import { TypedEmitter } from "../../util/events.js";
import { addr, silentLogger, type Logger } from "../../util/logger.js";
import { describeError, isSubflashError, type SubflashError } from "../../util/errors.js";
import { imageStart, imageSize, type FirmwareImage } from "../image/image.js";
import type { Bootloader } from "./bootloader.js";
import { BootloaderError } from "./errors.js";
import type {
  FlashEvents,
  FlashOptions,
  FlashResult,
  FlashStats,
  PreviousFirmware,
  VerifyMode,
} from "./flash-types.js";
import { Opcode } from "./commands/codes.js";
import { FlashError } from "./flasher-errors.js";
import { planFlash, type FlashPlan, type WriteBlock } from "./flasher-plan.js";
import { ProgressTracker, type PhaseEstimate } from "./flasher-progress.js";
import { withRetry, type RetryContext } from "./flasher-retry.js";
import { crcMismatches, readWithRetry, readbackMismatches, regionsOf, sameBytes } from "./flasher-verify.js";
import { repairScope } from "./flasher-repair.js";
import { coveredUnits, decideUnits, restrictTo, unitsTouched } from "./flasher-diff.js";
import { checksumExchangeMs, estimatePhases, preflight } from "./flasher-preflight.js";
import { proveLink } from "./link-proof.js";
import type { EraseUnit } from "./device.js";

type Span = { start: number; end: number };

export class Flasher extends TypedEmitter<FlashEvents> {
  readonly #bl: Bootloader;
  readonly #log: Logger;

  constructor(bootloader: Bootloader, options: { logger?: Logger } = {}) {
    super();
    this.#bl = bootloader;
    this.#log = (options.logger ?? silentLogger).child({ layer: "flasher", port: bootloader.port });
  }

  /** Flashes `image`; resolves with the result (also emitted as `done`), never rejects for device failures. */
  async flash(image: FirmwareImage, options: FlashOptions = {}): Promise<FlashResult> {
    const run = new FlashRun(this.#bl, image, options, this.#log, this);
    const result = await run.execute();
    this.emit("done", result);
    return result;
  }
}

/** Convenience: one flash with optional listeners. */
export function flashImage(
  bootloader: Bootloader,
  image: FirmwareImage,
  options: FlashOptions & { logger?: Logger } = {},
  listeners: {
    progress?: (p: FlashEvents["progress"][0]) => void;
    retry?: (r: FlashEvents["retry"][0]) => void;
  } = {},
): Promise<FlashResult> {
  const flasher = new Flasher(bootloader, { logger: options.logger });
  if (listeners.progress) flasher.on("progress", listeners.progress);
  if (listeners.retry) flasher.on("retry", listeners.retry);
  return flasher.flash(image, options);
}

class FlashRun {
  readonly #started = Date.now();
  readonly #wireAtStart: { bytesWritten: number; bytesRead: number };
  readonly #ctx: RetryContext;
  readonly #debug: boolean;
  #previous: PreviousFirmware = "untouched";
  #stats: FlashStats;
  #tracker = new ProgressTracker([]);

  constructor(
    readonly bl: Bootloader,
    readonly image: FirmwareImage,
    readonly options: FlashOptions,
    readonly log: Logger,
    readonly events: TypedEmitter<FlashEvents>,
  ) {
    this.#wireAtStart = { ...bl.link.stats };
    this.#debug = log.isLevelEnabled?.("debug") ?? false;
    this.#ctx = {
      bootloader: bl,
      attempts: Math.max(1, options.attempts ?? 3),
      log,
      onRetry: (event) => {
        this.#stats.retries++;
        events.emit("retry", event);
      },
    };
    this.#stats = {
      eraseUnits: 0,
      massErase: false,
      blocksWritten: 0,
      blocksSkipped: 0,
      bytesWritten: 0,
      verifiedBy: "none",
      retries: 0,
      elapsedMs: 0,
      wire: { sent: 0, received: 0 },
      repairs: 0,
      notes: [],
      units: {
        covered: 0,
        checked: 0,
        skipped: 0,
        skippedBy: { checksum: 0, known: 0 },
        erased: 0,
        written: 0,
        checks: 0,
      },
    };
  }

  async execute(): Promise<FlashResult> {
    try {
      // A garbled session can list garbage commands: prove the link before judging the Get list.
      if (this.options.proveLink !== false) await proveLink(this.bl, { log: this.log });
      const { plan, verify } = this.#preflight();
      const full = estimatePhases(this.bl, plan, verify);
      this.#stats.fullEstimateMs = Math.round(full.reduce((ms, p) => ms + p.ms, 0));
      const covered = coveredUnits(this.bl.device, plan);
      this.#stats.units!.covered = covered.length;
      const work = await this.#differential(plan, verify, covered, full);
      if (work.erase.kind === "mass" || work.erase.units.length > 0) {
        await this.#erase(work);
        this.#previous = "partly-erased";
      }
      const suspects = await this.#write(work.blocks, "write");
      this.#stats.units!.written = unitsTouched(covered, work.blocks);
      await this.#verifyAndRepair(plan, verify, suspects);
      this.#previous = "replaced";
      if (this.options.go !== undefined) await this.#go();
      return this.#finish();
    } catch (error) {
      return this.#finish(error);
    }
  }

  /**
   * The plan restricted to the units that differ from the image (all of them with `diff: "off"`,
   * a mass erase, or no evidence), with the progress model rebuilt for what is left to do.
   */
  async #differential(
    plan: FlashPlan,
    verify: Exclude<VerifyMode, "auto">,
    covered: readonly EraseUnit[],
    full: PhaseEstimate[],
  ): Promise<FlashPlan> {
    const mode = this.options.erase === "mass" ? "off" : (this.options.diff ?? "auto");
    const askDevice = this.bl.supports(Opcode.getChecksum);
    const known = this.options.known ?? [];
    const trustKnown = this.options.trustKnownContent === true && known.length > 0;
    if (mode === "off" || covered.length === 0 || (!askDevice && !trustKnown)) {
      if (mode === "auto" && covered.length > 0)
        this.#stats.notes!.push(
          "every unit rewritten: the bootloader has no Get Checksum (0xA1) and no trusted known content was given",
        );
      this.#tracker = new ProgressTracker(full);
      return plan;
    }
    // Worst case: every unit differs, which halving settles in one exchange per unit (flasher-diff.ts).
    const checkMs = askDevice ? covered.length * checksumExchangeMs(this.bl) : 0;
    this.#tracker = new ProgressTracker([{ phase: "check", ms: checkMs + 1 }, ...full]);
    this.#progress("check", 0, covered.length);
    this.#checkAbort();
    const { decisions, checks } = await decideUnits(this.#ctx, covered, plan.ranges, {
      askDevice,
      known,
      trustKnown,
      progress: (done, total) => this.#progress("check", done, total),
    });
    const units = this.#stats.units!;
    units.checks = checks;
    units.checked = decisions.filter((d) => d.by !== "none").length;
    for (const d of decisions) {
      if (!d.same) continue;
      units.skipped++;
      if (d.by === "checksum" || d.by === "known") units.skippedBy[d.by]++;
    }
    const differ = decisions.filter((d) => !d.same).map((d) => d.unit);
    this.log.info(
      { covered: covered.length, differ: differ.length, checks, by: askDevice ? "checksum" : "known" },
      "differential plan",
    );
    if (differ.length === covered.length) {
      this.#tracker.replan([{ phase: "check", ms: checkMs + 1 }, ...full]);
      return plan;
    }
    const work = planFlash(this.bl.device, restrictTo(this.image, plan, differ), {
      opcode: this.bl.eraseOpcode!,
      erase: "auto",
    });
    this.#tracker.replan([
      { phase: "check", ms: checkMs + 1 },
      ...estimatePhases(this.bl, work, verify, plan),
    ]);
    return work;
  }

  #preflight(): { plan: FlashPlan; verify: Exclude<VerifyMode, "auto"> } {
    const { plan, verify } = preflight(this.bl, this.image, this.options);
    if (plan.note) this.#stats.notes!.push(plan.note);
    this.#stats.blocksSkipped = plan.skippedBlocks;
    this.log.info(
      {
        image: this.image.source,
        bytes: imageSize(this.image),
        erase: plan.erase.kind === "mass" ? "mass" : `${plan.erase.units.length} unit(s)`,
        blocks: plan.blocks.length,
        skipped: plan.skippedBlocks,
        verify,
      },
      "flash plan",
    );
    return { plan, verify };
  }

  #progress(phase: FlashEvents["progress"][0]["phase"], done: number, total: number): void {
    this.events.emit("progress", this.#tracker.at(phase, done, total));
  }

  #checkAbort(): void {
    if (this.options.signal?.aborted) {
      throw new FlashError("cancelled", `${this.bl.port}: flashing cancelled`, { port: this.bl.port });
    }
  }

  async #erase(plan: FlashPlan): Promise<void> {
    const { erase } = plan;
    this.#stats.massErase = erase.kind === "mass";
    this.#checkAbort();
    if (erase.kind === "mass") {
      this.#progress("erase", 0, 1);
      await this.#eraseStep("mass erase", () => this.bl.erase({ kind: "mass" }));
      this.#stats.eraseUnits = erase.units.length;
      this.#stats.units!.erased += erase.units.length;
      this.#progress("erase", 1, 1);
      return;
    }
    const total = erase.units.length;
    this.#progress("erase", 0, total);
    for (const batch of erase.batches) {
      this.#checkAbort();
      const what = `erase of ${batch.length} unit(s) from ${batch[0]}`;
      await this.#eraseStep(what, () => this.bl.erase({ kind: "units", indexes: batch }));
      this.#stats.eraseUnits += batch.length;
      this.#stats.units!.erased += batch.length;
      this.#progress("erase", this.#stats.eraseUnits, total);
    }
  }

  /** One erase command with retries; the first one to reach the device makes the old firmware "partly erased". */
  async #eraseStep(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await withRetry(this.#ctx, what, step);
    } catch (error) {
      if (!(this.#stats.eraseUnits === 0 && refusedUpFront(error))) this.#previous = "partly-erased";
      throw error;
    }
    this.#previous = "partly-erased";
  }

  /** Writes blocks with retries; returns blocks left holding other data after a failed attempt. */
  async #write(blocks: readonly WriteBlock[], phase: "write" | "repair"): Promise<WriteBlock[]> {
    const suspects: WriteBlock[] = [];
    const total = blocks.reduce((n, b) => n + b.data.length, 0);
    let done = 0;
    if (phase === "write") this.#progress("write", 0, total);
    for (const block of blocks) {
      this.#checkAbort();
      const outcome = await withRetry(
        this.#ctx,
        `write at ${addr(block.address)}`,
        async () => {
          await this.bl.writeBlock(block.address, block.data);
          return "written" as const;
        },
        (error) => this.#recheckWrite(block, error),
      );
      if (outcome === "suspect") suspects.push(block);
      if (this.#debug)
        this.log.debug({ address: addr(block.address), length: block.data.length, outcome }, "block");
      this.#stats.blocksWritten++;
      this.#stats.bytesWritten += block.data.length;
      done += block.data.length;
      if (phase === "write") this.#progress("write", done, total);
    }
    return suspects;
  }

  /**
   * Before writing a block again: a failure in the data phase may have programmed it (only the ACK
   * was lost) or part of it. Flash can only be programmed from 0xFF, so look first.
   */
  async #recheckWrite(block: WriteBlock, error: BootloaderError): Promise<"written" | "suspect" | undefined> {
    if (error.context.phase !== "data") return undefined;
    const now = await readWithRetry(this.#ctx, block.address, block.data.length);
    if (sameBytes(now, block.data)) return "written";
    if (now.every((b) => b === 0xff)) return undefined;
    this.log.warn(
      { address: addr(block.address) },
      "block holds other data after a failed write; its unit will be erased again",
    );
    return "suspect";
  }

  async #verifyAndRepair(
    plan: FlashPlan,
    verify: Exclude<VerifyMode, "auto">,
    suspects: WriteBlock[],
  ): Promise<void> {
    const rounds = Math.max(0, this.options.repairRounds ?? 1);
    let bad = suspects;
    let scope: Span[] | undefined; // undefined: everything
    let verifiedAll = false;
    for (let round = 0; ;) {
      if (bad.length > 0) {
        if (round === rounds) throw this.#unrepaired(bad, verifiedAll, rounds);
        round++;
        const repaired = await this.#repair(plan, bad);
        scope = verifiedAll ? repaired : undefined;
      }
      if (verify === "none") {
        this.#stats.notes!.push("not verified (verify: none)");
        return;
      }
      this.#stats.verifiedBy = verify;
      bad = await this.#findBad(plan, verify, scope);
      verifiedAll = true;
      if (bad.length === 0) return;
    }
  }

  #unrepaired(bad: readonly WriteBlock[], verified: boolean, rounds: number): FlashError {
    const first = bad[0]!;
    const what = verified ? "flash differs from the image" : "a failed write left other data";
    return new FlashError(
      verified ? "verify-failed" : "write-failed",
      `${this.bl.port}: ${what} at ${addr(first.address)} (${bad.length} region(s)) after ${rounds} repair round(s); ` +
        "the module needs to be flashed again",
      { port: this.bl.port, address: first.address, regions: bad.length },
    );
  }

  /** Regions of flash that differ from the plan, within `scope` (everything when undefined). */
  async #findBad(plan: FlashPlan, verify: "crc" | "readback", scope?: Span[]): Promise<WriteBlock[]> {
    const inScope = (a: number, len: number): boolean =>
      !scope || scope.some((s) => a < s.end && a + len > s.start);
    if (verify === "readback") {
      const blocks = plan.blocks.filter((b) => inScope(b.address, b.data.length));
      const total = blocks.reduce((n, b) => n + b.data.length, 0);
      this.#stats.verifiedBytes = (this.#stats.verifiedBytes ?? 0) + total;
      if (!this.#stats.notes!.some((n) => n.startsWith("read-back"))) {
        this.#stats.notes!.push(
          "read-back covers the written blocks; skipped blank blocks are covered by the erase",
        );
      }
      return readbackMismatches(this.#ctx, blocks, (done) => this.#progress("verify", done, total));
    }
    const ranges = plan.ranges.filter((r) => inScope(r.address, r.data.length));
    const total = ranges.reduce((n, r) => n + r.data.length, 0);
    this.#stats.verifiedBytes = (this.#stats.verifiedBytes ?? 0) + total;
    const badRanges = await crcMismatches(this.#ctx, ranges, (done) => this.#progress("verify", done, total));
    if (badRanges.length === 0) return [];
    const bad = await readbackMismatches(this.#ctx, regionsOf(badRanges), () => {});
    if (bad.length === 0) {
      // Every byte read back matches: the flash is right and the device's CRC convention differs.
      this.#stats.verifiedBy = "readback";
      this.#stats.notes!.push(
        "the device checksum disagreed with the host CRC but a full read-back matched; verified by read-back",
      );
    }
    return bad;
  }

  async #repair(plan: FlashPlan, bad: readonly WriteBlock[]): Promise<Span[]> {
    const { units, blocks } = repairScope(this.bl.device, plan, bad);
    this.#stats.repairs = (this.#stats.repairs ?? 0) + 1;
    this.log.warn(
      { units: units.map((u) => u.index), blocks: blocks.length },
      "erasing units again and rewriting their blocks",
    );
    this.#previous = "partly-erased";
    await this.bl.erase({ kind: "units", indexes: units.map((u) => u.index) });
    this.#stats.units!.erased += units.length;
    const left = await this.#write(blocks, "repair");
    if (left.length > 0) {
      throw new FlashError(
        "write-failed",
        `${this.bl.port}: block at ${addr(left[0]!.address)} still holds other data after erasing its unit again`,
        {
          port: this.bl.port,
          address: left[0]!.address,
        },
      );
    }
    return units.map((u) => ({ start: u.start, end: u.start + u.size }));
  }

  async #go(): Promise<void> {
    const target = this.options.go === true ? imageStart(this.image) : this.options.go!;
    this.#progress("go", 0, 1);
    await this.bl.go(target);
    this.log.info({ address: addr(target) }, "started the application");
    this.#progress("go", 1, 1);
  }

  #finish(error?: unknown): FlashResult {
    const wire = this.bl.link.stats;
    this.#stats.elapsedMs = Date.now() - this.#started;
    this.#stats.wire = {
      sent: wire.bytesWritten - this.#wireAtStart.bytesWritten,
      received: wire.bytesRead - this.#wireAtStart.bytesRead,
    };
    if (error === undefined) {
      this.log.info({ ...this.#stats }, "flashed");
      return { ok: true, previous: "replaced", stats: this.#stats };
    }
    const failure = asSubflashError(error);
    this.log.error({ err: failure, previous: this.#previous }, "flashing failed");
    return { ok: false, previous: this.#previous, error: failure, stats: this.#stats };
  }
}

/** True when the device refused the erase before doing anything (NACK on the command frame, RDP). */
function refusedUpFront(error: unknown): boolean {
  return (
    error instanceof BootloaderError &&
    (error.code === "readout-protected" || (error.code === "nack" && error.context.phase === "command"))
  );
}

function asSubflashError(error: unknown): SubflashError {
  if (isSubflashError(error)) return error;
  return new FlashError(
    "internal",
    `unexpected error while flashing: ${describeError(error)}`,
    {},
    { cause: error },
  );
}
