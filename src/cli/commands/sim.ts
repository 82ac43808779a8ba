/**
 * `subflash sim --tty <path> --device <name|pid>`: a simulated module on a terminal device, typically
 * one end of a socat pseudo-terminal pair, so real host tools (stm32flash, subflash flash) can talk
 * to it. The pty carries 8N1; the simulator still models 8E1 wire time (11 bits a byte).
 */
import type { Command } from "commander";
import { pino } from "pino";
import { openDeviceEnd, type DeviceEnd } from "../../targets/index.js";
import { describeError } from "../../util/errors.js";
import { silentLogger, type Logger } from "../../util/logger.js";
import { action, parseNumber, UsageError } from "../run.js";
import { registerFleet } from "./sim-fleet.js";

interface SimCliOptions {
  tty: string;
  device: string;
  baud: string;
  flashFile?: string;
  timing: boolean;
  statsFile?: string;
  bootloaderVersion?: string;
  rdp?: boolean;
  verbose?: boolean;
}

export function register(program: Command): void {
  const sim = program.command("sim");
  registerFleet(sim);
  sim
    .description(
      "simulate an STM32 module's ROM bootloader (AN3155) on a terminal device, e.g. one end of a socat pty pair",
    )
    // Checked in runSim rather than as required options, so that `sim fleet` does not need them.
    .option("--tty <path>", "terminal device to serve (required)")
    .option("--device <name|pid>", "part name or product ID: f103, f407, g071, 0x460… (required)")
    .option("--baud <rate>", "line speed of the wire-time model", "115200")
    .option("--flash-file <file>", "keep the flash content (and RDP/WRP) in this file across restarts")
    .option("--no-timing", "answer at once instead of at modelled wire and flash speed")
    .option("--stats-file <file>", "write statistics as JSON after every command and at exit")
    .option(
      "--bootloader-version <byte>",
      "USART protocol version reported by Get, e.g. 0x33 (adds Get Checksum 0xA1)",
    )
    .option("--rdp", "start with read-out protection level 1")
    .option("--verbose", "debug logs (JSON) on stderr")
    .addHelpText(
      "after",
      "\nSignals: SIGUSR2 resets the module into its bootloader (flash kept); SIGINT/SIGTERM stop it.",
    )
    .action(action("sim", runSim));
}

async function runSim(opts: SimCliOptions): Promise<number> {
  // The simulator wing is loaded when the command runs, so `subflash sim --help` stays light.
  const { createSimulatedModule, StatsFileWriter } = await import("../../sim/index.js");
  if (!opts.tty) throw new UsageError("required option '--tty <path>' not specified");
  if (!opts.device) throw new UsageError("required option '--device <name|pid>' not specified");
  const baud = parseNumber(opts.baud, "--baud");
  if (baud <= 0) throw new UsageError(`--baud must be positive, got ${opts.baud}`);
  const logger: Logger = opts.verbose
    ? pino({ level: "debug", base: undefined }, pino.destination(2))
    : silentLogger;
  const sim = createSimulatedModule({
    device: opts.device,
    baud,
    timing: opts.timing,
    ...(opts.flashFile ? { flashFile: opts.flashFile } : {}),
    ...(opts.bootloaderVersion
      ? { bootloaderVersion: parseNumber(opts.bootloaderVersion, "--bootloader-version") }
      : {}),
    ...(opts.rdp ? { rdp: 1 as const } : {}),
    logger,
  });
  const stats = opts.statsFile ? new StatsFileWriter(opts.statsFile) : undefined;
  const snapshot = (): object => sim.snapshot();
  sim.on("command", () => stats?.request(snapshot));
  stats?.writeSync(sim.snapshot());

  // A pty whose other side comes and goes may report I/O errors; they must not kill the module.
  const report = (error: Error): void =>
    void process.stderr.write(`subflash sim: ${opts.tty}: ${error.message}\n`);
  let port: DeviceEnd;
  try {
    port = await openDeviceEnd(opts.tty, baud, report);
  } catch (error) {
    await sim.close();
    throw new UsageError(describeError(error));
  }
  sim.attach(port.stream);
  const version = `v${sim.version >> 4}.${sim.version & 0xf}`;
  const pid = `0x${sim.device.pid.toString(16).padStart(3, "0")}`;
  process.stdout.write(
    `simulating ${sim.device.name} (PID ${pid}, bootloader ${version}) on ${opts.tty} at ${baud} baud\n`,
  );

  // SIGUSR2 pulses NRST with BOOT0 high: a fresh bootloader waiting for 0x7F, flash kept. A pty has
  // no modem lines to reset through; scripts and the flash benchmark use this between runs. (Not
  // SIGUSR1: Node reserves it for the inspector.)
  const resetIntoBootloader = (): void => sim.reset("bootloader");
  process.on("SIGUSR2", resetIntoBootloader);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.off("SIGUSR2", resetIntoBootloader);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    void port.closed.then(stop);
  });
  await stats?.drain();
  stats?.writeSync(sim.snapshot());
  await sim.close();
  await port.close();
  return 0;
}
