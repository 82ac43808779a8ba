/**
 * `subflash demo` (`npm run demo`): the whole story on one machine — embedded broker, simulated
 * modules, real update engine — with every step checked. Exit code 0 only if all steps behaved.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { SimBehaviour } from "../../sim/index.js";
import type * as SimWing from "../../sim/index.js";
import { createServiceLogger } from "../../util/service-logger.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface DemoFlags {
  baud: string;
  imageSize: string;
  timing: boolean;
  broker?: string;
  logLevel?: string;
}

export function register(program: Command): void {
  const demoCommand = program
    .command("demo")
    .description(
      "Run the whole update story on this machine: embedded MQTT broker, four simulated modules (serial and I2C), no hardware",
    )
    .option("--baud <n>", "bootloader baud of the simulated serial lines", "115200")
    .option("--image-size <KiB>", "firmware image size per module, KiB", "16")
    .option("--no-timing", "no simulated wire/flash time (instant; for a quick check)")
    .option("--broker <url>", "use this MQTT broker instead of starting an embedded one")
    .option("--log-level <level>", "also print the gateway's JSON logs to stderr at this level")
    .action(action("demo", (flags: DemoFlags) => demo(flags)));
  demoCommand
    .command("firmware <out>")
    .description("Write a firmware image for simulated modules (what `daemon --simulate` modules run)")
    .requiredOption("--app-version <v>", "version the application reports to the health probe")
    .option("--size <bytes>", "image size", "8192")
    .option(
      "--behaviour <b>",
      "how the firmware behaves: healthy, or a failure mode (checked when run)",
      "healthy",
    )
    .action(action("demo firmware", (out: string, flags: FirmwareFlags) => firmware(out, flags)));
}

interface FirmwareFlags {
  appVersion: string;
  size: string;
  behaviour: string;
}

async function firmware(out: string, flags: FirmwareFlags): Promise<number> {
  const { buildSimFirmware, SIM_BEHAVIOURS } = await loadSim();
  if (!(SIM_BEHAVIOURS as readonly string[]).includes(flags.behaviour)) {
    throw new UsageError(`--behaviour must be one of ${SIM_BEHAVIOURS.join(", ")}, got "${flags.behaviour}"`);
  }
  let image: Uint8Array;
  try {
    image = buildSimFirmware({
      version: flags.appVersion,
      size: parseNumber(flags.size, "--size"),
      behaviour: flags.behaviour as SimBehaviour,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  await writeFile(out, image);
  process.stdout.write(
    `wrote ${out}: simulated firmware ${flags.appVersion} (${flags.behaviour}, ${image.length} bytes)\n`,
  );
  return ExitCode.ok;
}

async function demo(flags: DemoFlags): Promise<number> {
  const parseBroker = (await import("./broker-options.js")).brokerFromFlag;
  const baud = parseNumber(flags.baud, "--baud");
  const kib = parseNumber(flags.imageSize, "--image-size");
  if (kib < 1 || kib > 48)
    throw new UsageError("--image-size must be 1..48 KiB (the demo's slots are 56 KiB and up)");
  const logger = flags.logLevel ? createServiceLogger({ level: flags.logLevel, fd: 2 }) : undefined;
  const { runDemo } = await loadSim();
  const result = await runDemo({
    out: process.stdout,
    baud,
    imageSize: kib * 1024,
    timing: flags.timing,
    ...(flags.broker !== undefined ? { broker: parseBroker(flags.broker) } : {}),
    ...(logger ? { logger } : {}),
  });
  return result.ok ? ExitCode.ok : ExitCode.failed;
}

/**
 * The demo's embedded broker is aedes, an optional dependency: a gateway installed with
 * `npm install -g --omit=optional` has no aedes, and `subflash demo` says so instead of a stack trace.
 */
async function loadSim(): Promise<typeof SimWing> {
  try {
    return await import("../../sim/index.js");
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && /aedes/.test(String(error)))
      throw new UsageError(
        "the demo needs aedes, an optional dependency that is not installed: reinstall subflash without --omit=optional (or `npm install aedes`)",
      );
    throw error;
  }
}
