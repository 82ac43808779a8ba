/**
 * `subflash erase --port <tty> (--pages 0-3,7 | --sectors 0-3 | --mass | --bank 1|2)`: erase flash
 * units (pages, or sectors on F2/F4/F7/H7), the whole flash, or one bank of a dual-bank part.
 */
import type { Command } from "commander";
import { eraseUnits, type DeviceInfo } from "../../targets/index.js";
import type { EraseRequest } from "../../targets/index.js";
import { isSubflashError } from "../../util/errors.js";
import { addr } from "../../util/logger.js";
import { action, UsageError } from "../run.js";
import { createReporter, failJson, writeJsonLine } from "../progress.js";
import { addTargetOptions, openTargetOrReport, type TargetFlags } from "../target.js";

interface EraseFlags extends TargetFlags {
  pages?: string;
  sectors?: string;
  mass?: boolean;
  bank?: string;
}

export function register(program: Command): void {
  addTargetOptions(
    program.command("erase").description("erase flash pages or sectors, the whole flash, or one bank"),
  )
    .option("--pages <list>", "erase units by index, e.g. 0-3,7")
    .option("--sectors <list>", "the same, for parts with sectors (F2/F4/F7/H7), e.g. 5-7")
    .option("--mass", "erase the whole flash (page by page on L0/L1, which have no mass erase)")
    .option("--bank <n>", "erase bank 1 or 2 of a dual-bank part")
    .action(action("erase", runErase));
}

/** Parses "0-3,7" into [0, 1, 2, 3, 7] (sorted, duplicates removed). */
export function parseUnitList(text: string, option: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`${option}: "${part}" is not a number or a range like 0-3 (in "${text}")`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new UsageError(`${option}: range ${part.trim()} runs backwards`);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

function request(flags: EraseFlags): EraseRequest {
  const chosen = [
    flags.pages !== undefined,
    flags.sectors !== undefined,
    flags.mass === true,
    flags.bank !== undefined,
  ].filter(Boolean).length;
  if (chosen !== 1)
    throw new UsageError("give exactly one of --pages <list>, --sectors <list>, --mass or --bank <1|2>");
  if (flags.mass) return { kind: "mass" };
  if (flags.bank !== undefined) {
    if (flags.bank !== "1" && flags.bank !== "2")
      throw new UsageError(`--bank must be 1 or 2, got ${flags.bank}`);
    return { kind: "bank", bank: flags.bank === "1" ? 1 : 2 };
  }
  const option = flags.pages !== undefined ? "--pages" : "--sectors";
  return { kind: "units", indexes: parseUnitList((flags.pages ?? flags.sectors)!, option) };
}

function checkUnits(device: DeviceInfo, req: EraseRequest, flags: EraseFlags): void {
  if (req.kind !== "units") return;
  const count = eraseUnits(device).length;
  const bad = req.indexes.find((i) => i >= count);
  if (bad !== undefined) {
    const unit = device.erase.kind === "pages" ? "pages" : "sectors";
    throw new UsageError(
      `${flags.pages !== undefined ? "--pages" : "--sectors"}: ${device.name} has ${unit} 0..${count - 1}; ${bad} does not exist`,
    );
  }
}

async function runErase(flags: EraseFlags): Promise<number> {
  let req = request(flags);
  const target = await openTargetOrReport(flags);
  if (typeof target === "number") return target;
  const reporter = createReporter({ json: flags.json === true });
  const started = Date.now();
  try {
    const bl = target.bootloader;
    const units = eraseUnits(bl.device);
    checkUnits(bl.device, req, flags);
    if (req.kind === "mass" && !bl.device.massErase) {
      reporter.note(
        `${bl.device.name} has no mass erase: erasing its ${units.length} units one list at a time`,
      );
      req = { kind: "units", indexes: units.map((u) => u.index) };
    }
    const total = req.kind === "units" ? req.indexes.length : 1;
    let done = 0;
    reporter.progress({ phase: "erase", done, total, percent: 0 });
    await bl.erase(req, (batch) => {
      done += batch.length;
      reporter.progress({ phase: "erase", done, total, percent: Math.round((done / total) * 1000) / 10 });
    });
    reporter.stop();
    const what =
      req.kind === "mass"
        ? "the whole flash"
        : req.kind === "bank"
          ? `bank ${req.bank}`
          : `${req.indexes.length} unit(s): ${req.indexes.map((i) => `${i} (${addr(units[i]!.start)})`).join(", ")}`;
    if (flags.json)
      writeJsonLine({ event: "result", ok: true, erased: req, elapsedMs: Date.now() - started });
    else process.stderr.write(`erased ${what} of ${bl.device.name}\n`);
    return 0;
  } catch (error) {
    reporter.stop();
    if (flags.json && isSubflashError(error)) return failJson(error);
    throw error;
  } finally {
    await target.close();
  }
}
