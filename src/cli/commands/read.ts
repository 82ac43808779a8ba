/** `subflash read --port <tty> --address <a> --length <n> --out <file>`: read memory into a file. */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { withRetry } from "../../targets/index.js";
import { isSubflashError } from "../../util/errors.js";
import { addr } from "../../util/logger.js";
import { action, parseNumber, UsageError } from "../run.js";
import { createReporter, failJson, sizeText, writeJsonLine } from "../progress.js";
import { addTargetOptions, openTargetOrReport, type TargetFlags } from "../target.js";

interface ReadFlags extends TargetFlags {
  address: string;
  length: string;
  out: string;
}

/** Bytes per progress step (16 Read Memory commands). */
const CHUNK = 4096;

export function register(program: Command): void {
  addTargetOptions(program.command("read").description("read memory (flash, RAM, option bytes…) into a file"))
    .requiredOption("--address <addr>", "start address, e.g. 0x08000000")
    .requiredOption("--length <bytes>", "number of bytes, e.g. 0x10000")
    .requiredOption("--out <file>", "file to write")
    .action(action("read", runRead));
}

async function runRead(flags: ReadFlags): Promise<number> {
  const address = parseNumber(flags.address, "--address");
  const length = parseNumber(flags.length, "--length");
  if (length <= 0) throw new UsageError(`--length must be positive, got ${flags.length}`);
  if (address + length > 0x1_0000_0000)
    throw new UsageError(
      `--address ${flags.address} + --length ${flags.length} leaves the 32-bit address space`,
    );
  const target = await openTargetOrReport(flags);
  if (typeof target === "number") return target;
  const reporter = createReporter({ json: flags.json === true });
  const started = Date.now();
  try {
    const bl = target.bootloader;
    const ctx = {
      bootloader: bl,
      attempts: 3,
      log: target.logger,
      onRetry: (r: Parameters<typeof reporter.retry>[0]) => reporter.retry(r),
    };
    const data = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = Math.min(CHUNK, length - done);
      data.set(
        await withRetry(ctx, `read at ${addr(address + done)}`, () => bl.readMemory(address + done, n)),
        done,
      );
      done += n;
      const elapsed = Date.now() - started;
      reporter.progress({
        phase: "read",
        done,
        total: length,
        percent: Math.round((done / length) * 1000) / 10,
        remainingSeconds: (elapsed * (length - done)) / done / 1000,
      });
    }
    reporter.stop();
    await writeFile(flags.out, data);
    if (flags.json)
      writeJsonLine({
        event: "result",
        ok: true,
        address,
        length,
        out: flags.out,
        elapsedMs: Date.now() - started,
      });
    else
      process.stderr.write(
        `read ${sizeText(length)} at ${addr(address)} from ${bl.device.name} into ${flags.out}\n`,
      );
    return 0;
  } catch (error) {
    reporter.stop();
    if (flags.json && isSubflashError(error)) return failJson(error);
    throw error;
  } finally {
    await target.close();
  }
}
