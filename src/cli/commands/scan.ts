/**
 * `subflash scan --i2c <bus>`: lists the STM32 ROM bootloaders answering on an I2C bus, with their
 * protocol version and product ID. Probing is read-only (a one-byte read per address); the
 * identification that follows writes Get Version / Get ID frames to the addresses that answered (see
 * src/targets/stm32/i2c-scan.ts), so `--from/--to` can keep it away from other devices.
 * Exit codes: 0 at least one bootloader found; 1 none found or the bus cannot be used; 2 bad usage.
 */
import type { Command } from "commander";
import { openI2cBus } from "../../targets/index.js";
import { FIRST_I2C_ADDRESS, LAST_I2C_ADDRESS } from "../../targets/index.js";
import { scanI2cBus, type I2cScanEntry } from "../../targets/index.js";
import { isSubflashError } from "../../util/errors.js";
import { ExitCode, action, parseNumber, UsageError } from "../run.js";
import { failJson, writeJsonLine } from "../progress.js";
import { cliLogger } from "../target.js";

interface ScanFlags {
  i2c?: string;
  from: string;
  to: string;
  clock: string;
  logLevel?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("scan")
    .description(
      "list the STM32 ROM bootloaders answering on an I2C bus (address, protocol version, product ID)",
    )
    .option("--i2c <bus>", "I2C bus number or device node, e.g. 1 or /dev/i2c-1")
    .option(
      "--from <addr>",
      "first 7-bit address to probe",
      `0x${FIRST_I2C_ADDRESS.toString(16).padStart(2, "0")}`,
    )
    .option("--to <addr>", "last 7-bit address to probe", `0x${LAST_I2C_ADDRESS.toString(16)}`)
    .option("--clock <hz>", "bus clock the adapter runs at, for timeouts", "400000")
    .option("--log-level <level>", "JSON logs on stderr at this level")
    .option("--json", "machine-readable output on stdout")
    .action(action("scan", runScan));
}

async function runScan(flags: ScanFlags): Promise<number> {
  if (flags.i2c === undefined) throw new UsageError("give the bus to scan with --i2c <bus> (e.g. --i2c 1)");
  const from = parseNumber(flags.from, "--from");
  const to = parseNumber(flags.to, "--to");
  if (from < FIRST_I2C_ADDRESS || to > LAST_I2C_ADDRESS || from > to) {
    throw new UsageError(`--from/--to must give a range inside 0x03..0x77, got ${flags.from}..${flags.to}`);
  }
  const clockHz = parseNumber(flags.clock, "--clock");
  if (clockHz <= 0) throw new UsageError("--clock must be positive");
  const logger = cliLogger(flags);

  let bus;
  try {
    bus = await openI2cBus(flags.i2c, { clockHz, logger });
  } catch (error) {
    if (flags.json && isSubflashError(error)) return failJson(error);
    throw error;
  }
  let found: I2cScanEntry[];
  try {
    found = await scanI2cBus(bus, { from, to, logger });
  } finally {
    await bus.close();
  }
  const bootloaders = found.filter((e) => e.bootloader);
  if (flags.json) {
    writeJsonLine({ event: "result", ok: bootloaders.length > 0, bus: bus.description, from, to, found });
  } else {
    process.stdout.write(formatScan(bus.description, found));
  }
  return bootloaders.length > 0 ? ExitCode.ok : ExitCode.failed;
}

/** A table of what answered, one line per address. */
export function formatScan(bus: string, found: readonly I2cScanEntry[]): string {
  if (found.length === 0) return `no device acknowledged on ${bus}\n`;
  const lines = found.map((e) => {
    if (!e.bootloader)
      return `${e.addressName}  something answered, but not as an STM32 bootloader (${e.error ?? "no reply"})`;
    const pid = e.pid === undefined ? "PID unknown" : `PID 0x${e.pid.toString(16).padStart(3, "0")}`;
    return `${e.addressName}  STM32 bootloader, I2C protocol v${e.versionName ?? "?"}, ${pid}${e.device ? ` (${e.device})` : ""}${e.error ? `; ${e.error}` : ""}`;
  });
  return `${bus}:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}
