/**
 * `subflash unprotect --port <tty> (--write | --readout --yes)`: lift write protection, or readout
 * protection (which mass-erases the whole flash: that is how the part guards its content).
 */
import type { Command } from "commander";
import { isSubflashError } from "../../util/errors.js";
import { action, UsageError } from "../run.js";
import { failJson, writeJsonLine } from "../progress.js";
import { addTargetOptions, openTargetOrReport, type TargetFlags } from "../target.js";

interface UnprotectFlags extends TargetFlags {
  write?: boolean;
  readout?: boolean;
  yes?: boolean;
}

export function register(program: Command): void {
  addTargetOptions(
    program
      .command("unprotect")
      .description(
        "lift write protection (--write) or readout protection (--readout: ERASES THE WHOLE FLASH)",
      ),
  )
    .option("--write", "remove write protection from every sector (Write Unprotect 0x73)")
    .option("--readout", "lift readout protection (Readout Unprotect 0x92); the device mass-erases its flash")
    .option("--yes", "confirm --readout (it erases everything)")
    .action(action("unprotect", runUnprotect));
}

async function runUnprotect(flags: UnprotectFlags): Promise<number> {
  if (!flags.write && !flags.readout)
    throw new UsageError("give --write (write protection) and/or --readout (readout protection)");
  if (flags.readout && !flags.yes) {
    throw new UsageError(
      "--readout mass-erases the module's whole flash (that is how readout protection is lifted); add --yes to confirm",
    );
  }
  const target = await openTargetOrReport(flags);
  if (typeof target === "number") return target;
  const done: string[] = [];
  try {
    const bl = target.bootloader;
    // Readout first: under RDP level 1 the device refuses Write Unprotect.
    if (flags.readout) {
      if (!flags.json)
        process.stderr.write(
          `lifting readout protection of ${bl.device.name}: the flash is being mass-erased…\n`,
        );
      await bl.readoutUnprotect();
      done.push("readout");
    }
    if (flags.write) {
      await bl.writeUnprotect();
      done.push("write");
    }
    if (flags.json) writeJsonLine({ event: "result", ok: true, unprotected: done, rdp: bl.rdp });
    else {
      process.stderr.write(
        `${bl.device.name}: ${done.map((d) => (d === "readout" ? "readout protection lifted (flash erased)" : "write protection removed")).join("; ")}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (flags.json && isSubflashError(error)) return failJson(error, { unprotected: done });
    throw error;
  } finally {
    await target.close();
  }
}
