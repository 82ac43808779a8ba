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
    const i2c = !r.i2cBootloader
      ? ""
      : r.i2cAddress
        ? ` i2c ${r.i2cAddress} (${r.i2cAddressConfidence ?? "?"})`
        : " i2c address not known";
    process.stdout.write(
      `${r.pid}  ${r.name.padEnd(34)} ${String(r.flashKiB).padStart(5)} KiB  ${r.eraseLayout.padEnd(28)} ${r.aliases[0]}${i2c}\n`,
    );
  }
  const withI2c = rows.filter((r) => r.i2cBootloader);
  process.stdout.write(
    `${rows.length} parts (${withI2c.length} with an I2C bootloader, ${withI2c.filter((r) => r.i2cAddress).length} of them with a known address); subflash devices --json for every field and source\n`,
  );
  return Promise.resolve(ExitCode.ok);
}
