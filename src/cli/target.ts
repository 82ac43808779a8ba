/**
 * How the bench commands (info, flash, read, erase, unprotect) reach a module: the shared options and
 * the one function that opens the transport, plays the bootloader entry sequence and identifies the
 * part. An I2C target (`--i2c <bus> --i2c-address <7-bit>`, i2c-target.ts) plugs in here without
 * touching the commands.
 */
import { Option, type Command } from "commander";
import { createRequire } from "node:module";
import type { pino as Pino } from "pino";
import { openSerialTransport, DEFAULT_BAUD, type SerialParity } from "../targets/index.js";
import {
  applicationExit,
  bootloaderEntry,
  parseLineSequence,
  runLineSequence,
  type LineStep,
} from "../targets/index.js";
import type { I2cTransport, StreamTransport } from "../targets/index.js";
import { Bootloader } from "../targets/index.js";
import { resolveDevice } from "../targets/index.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { parseNumber, UsageError } from "./run.js";
import { failJson } from "./progress.js";
import { isSubflashError } from "../util/errors.js";
import { addI2cTargetOptions, openI2cTarget, type I2cTargetFlags } from "./i2c-target.js";

export interface TargetFlags extends I2cTargetFlags {
  port?: string;
  baud: string;
  parity: string;
  entry?: string;
  exit?: string;
  device?: string;
  logLevel?: string;
  json?: boolean;
}

export interface Target {
  transport: StreamTransport | I2cTransport;
  bootloader: Bootloader;
  logger: Logger;
  /** Plays the exit sequence (if any) and closes the port. */
  close(options?: { exit?: boolean }): Promise<void>;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

/** Adds the options every bench command shares. */
export function addTargetOptions(command: Command): Command {
  return addI2cTargetOptions(
    command.option("--port <tty>", "serial port of the module's bootloader USART, e.g. /dev/ttyUSB0"),
  )
    .option("--baud <rate>", "line speed", String(DEFAULT_BAUD))
    .addOption(
      new Option(
        "--parity <parity>",
        "even (8E1, as AN3155 requires) or none (pseudo-terminals, BlueNRG/WB0 parts)",
      )
        .choices(["even", "none"])
        .default("even"),
    )
    .option(
      "--entry <sequence>",
      'DTR/RTS sequence that puts the module in its bootloader: "auto" (RTS→BOOT0, DTR→NRST) or steps like "rts=1+dtr=1,wait=100,dtr=0,wait=100"',
    )
    .option(
      "--exit <sequence>",
      'DTR/RTS sequence played at the end: "auto" (BOOT0 low, reset pulse: start the application) or steps',
    )
    .option(
      "--device <name|pid>",
      "treat the module as this part instead of looking its product ID up (clones, parts missing from the table)",
    )
    .addOption(new Option("--log-level <level>", "JSON logs on stderr at this level").choices(LOG_LEVELS))
    .option("--json", "machine-readable output on stdout");
}

/** The logger of a bench command: pino on stderr when --log-level is given, else nothing. */
export function cliLogger(flags: Pick<TargetFlags, "logLevel">): Logger {
  if (!flags.logLevel) return silentLogger;
  // Loaded only when asked for: pino costs ~25 ms of every bench command's start-up.
  const { pino } = createRequire(import.meta.url)("pino") as { pino: typeof Pino };
  return pino({ level: flags.logLevel, base: undefined }, pino.destination(2));
}

function sequence(value: string | undefined, auto: () => LineStep[], option: string): LineStep[] {
  if (value === undefined || value === "none") return [];
  if (value === "auto") return auto();
  try {
    return parseLineSequence(value);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

/**
 * Opens the port, plays --entry, activates and identifies the bootloader. On failure the port is
 * closed again before the error propagates.
 */
export async function openTarget(flags: TargetFlags): Promise<Target> {
  if (flags.i2c !== undefined) {
    return openI2cTarget(
      flags,
      flags.device !== undefined ? resolveDevice(flags.device) : undefined,
      cliLogger(flags),
    );
  }
  if (!flags.port)
    throw new UsageError(
      "give the module's serial port with --port <tty> (e.g. --port /dev/ttyUSB0), or its I2C bus with --i2c <bus>",
    );
  const baud = parseNumber(flags.baud, "--baud");
  if (baud <= 0) throw new UsageError(`--baud must be positive, got ${flags.baud}`);
  const entry = sequence(flags.entry, () => bootloaderEntry(), "--entry");
  const exit = sequence(flags.exit, () => applicationExit(), "--exit");
  const device = flags.device !== undefined ? resolveDevice(flags.device) : undefined;
  const logger = cliLogger(flags);

  const transport = await openSerialTransport(flags.port, {
    baud,
    parity: flags.parity as SerialParity,
    logger,
  });
  try {
    await runLineSequence(transport, entry);
    const bootloader = await Bootloader.connect(transport, { logger, ...(device ? { device } : {}) });
    return {
      transport,
      bootloader,
      logger,
      async close(options = {}) {
        try {
          if (options.exit !== false) await runLineSequence(transport, exit);
        } finally {
          await transport.close();
        }
      },
    };
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/**
 * openTarget for a command's action: with --json, a failure to reach the module is reported as a
 * JSON result on stdout (with `extra` fields) and its exit code is returned instead of a target.
 */
export async function openTargetOrReport(
  flags: TargetFlags & { json?: boolean },
  extra: Record<string, unknown> = {},
): Promise<Target | number> {
  try {
    return await openTarget(flags);
  } catch (error) {
    if (flags.json === true && isSubflashError(error)) return failJson(error, extra);
    throw error;
  }
}
