/** `subflash devices [--json]`: the parts the device table supports (docs/devices.md in full). */
import type { Command } from "commander";
import { deviceSummaries } from "../../targets/index.js";
import { action, ExitCode } from "../run.js";

export function register(program: Command): void {
  program
    .command("devices")
    .description("List the supported STM32 parts: product ID, name, flash, erase command, bootloader ID")
    .option("--json", "print every field of every part as JSON")
    .action(action("devices", (flags: { json?: boolean }) => devices(flags)));
}

function devices(flags: { json?: boolean }): Promise<number> {
  const rows = deviceSummaries();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return Promise.resolve(ExitCode.ok);
  }
  for (const r of rows) {
    const i2c = r.i2cAddress ? ` i2c ${r.i2cAddress}` : "";
    process.stdout.write(
      `${r.pid}  ${r.name.padEnd(34)} ${String(r.flashKiB).padStart(5)} KiB  ${r.eraseLayout.padEnd(28)} ${r.aliases[0]}${i2c}\n`,
    );
  }
  process.stdout.write(`${rows.length} parts; subflash devices --json for every field\n`);
  return Promise.resolve(ExitCode.ok);
}
