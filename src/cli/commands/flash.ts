/**
 * `subflash flash --port <tty> <image>`: erase what the image covers (with --diff auto, only the erase
 * units whose content differs), write, verify, optionally Go.
 * Exit codes: 0 flashed and verified (or explicitly unverified with --verify none); 1 failed with the
 * previous firmware untouched (or flashed but Go failed); 2 bad usage or unreadable image;
 * 3 failed after erasing: the module needs recovery (flash it again; the ROM bootloader is always there).
 */
import { Option, type Command } from "commander";
import { loadImage } from "../../targets/index.js";
import { imageSize, type FirmwareImage } from "../../targets/index.js";
import { Flasher } from "../../targets/index.js";
import type { DiffMode, FlashResult, VerifyMode } from "../../targets/index.js";
import { isSubflashError } from "../../util/errors.js";
import { ExitCode, action, parseNumber, UsageError } from "../run.js";
import { createReporter, describeStats, sizeText, writeJsonLine } from "../progress.js";
import { addTargetOptions, openTargetOrReport, type TargetFlags } from "../target.js";

interface FlashFlags extends TargetFlags {
  address?: string;
  verify: VerifyMode;
  erase: "auto" | "mass";
  diff: DiffMode;
  go?: string | true;
  attempts?: string;
}

export function register(program: Command): void {
  addTargetOptions(
    program
      .command("flash")
      .description(
        "flash a firmware image (.bin, .hex, .elf) through the module's ROM bootloader, with verification",
      )
      .argument("<image>", "firmware file: .bin, .hex or .elf"),
  )
    .option("--address <addr>", "load address of a .bin file (default: the flash start, 0x08000000)")
    .addOption(
      new Option(
        "--verify <mode>",
        "auto: Get Checksum (0xA1) when offered, else read-back; crc: require 0xA1; none: do not verify",
      )
        .choices(["auto", "crc", "readback", "none"])
        .default("auto"),
    )
    .addOption(
      new Option("--erase <mode>", "auto: the units the image covers; mass: the whole flash")
        .choices(["auto", "mass"])
        .default("auto"),
    )
    .addOption(
      new Option(
        "--diff <mode>",
        "auto: erase and write only the erase units whose content differs (Get Checksum per unit); off: rewrite every unit",
      )
        .choices(["auto", "off"])
        .default("auto"),
    )
    .option(
      "--go [address]",
      "start the application after a verified flash (default address: the image start)",
    )
    .option("--attempts <n>", "attempts per block before giving up", "3")
    .action(action("flash", runFlash));
}

async function runFlash(file: string, flags: FlashFlags): Promise<number> {
  const json = flags.json === true;
  const go =
    flags.go === undefined ? undefined : flags.go === true ? (true as const) : parseNumber(flags.go, "--go");
  const attempts = parseNumber(flags.attempts ?? "3", "--attempts");
  if (attempts < 1) throw new UsageError("--attempts must be at least 1");
  let image: FirmwareImage;
  try {
    image = await loadImage(
      file,
      flags.address !== undefined ? { address: parseNumber(flags.address, "--address") } : {},
    );
  } catch (error) {
    if (isSubflashError(error) && error.domain === "image") throw new UsageError(error.message);
    throw error;
  }

  const opening = performance.now();
  const target = await openTargetOrReport({ ...flags, json }, { previous: "untouched" });
  if (typeof target === "number") return target;
  const connectMs = performance.now() - opening;
  const reporter = createReporter({ json });
  let result: FlashResult | undefined;
  let timing: SessionTiming | undefined;
  try {
    const flasher = new Flasher(target.bootloader, { logger: target.logger });
    flasher.on("progress", (p) => reporter.progress(p));
    flasher.on("retry", (r) => reporter.retry(r));
    result = await flasher.flash(image, {
      verify: flags.verify,
      erase: flags.erase,
      diff: flags.diff,
      attempts,
      ...(go !== undefined ? { go } : {}),
    });
    timing = { connectMs: Math.round(connectMs), sessionMs: Math.round(performance.now() - opening) };
  } finally {
    reporter.stop();
    // The exit sequence resets into the application: only sensible when the new one is complete.
    await target.close({ exit: result?.ok === true });
  }
  return report(result, image, target.bootloader.device.name, target.bootloader.port, json, timing);
}

/**
 * Where the command's time went, in the --json result: opening the port to a connected session
 * (activation, Get, Get ID, RDP probe), and to the flash done (connect + flash). The flash alone is
 * `stats.elapsedMs`; process start and exit are neither.
 */
interface SessionTiming {
  connectMs: number;
  sessionMs: number;
}

function report(
  result: FlashResult,
  image: FirmwareImage,
  device: string,
  port: string,
  json: boolean,
  timing: SessionTiming | undefined,
): number {
  // An image that does not fit the device's flash is bad input (exit 2), found once the part is known.
  const badInput = !result.ok && result.previous === "untouched" && result.error.code === "out-of-range";
  const code =
    !result.ok && result.previous === "partly-erased"
      ? ExitCode.needsRecovery
      : result.ok
        ? ExitCode.ok
        : badInput
          ? ExitCode.usage
          : ExitCode.failed;
  if (json) {
    writeJsonLine({
      event: "result",
      ...result,
      ...(result.ok ? {} : { error: result.error.toJSON() }),
      ...(timing ? { timing } : {}),
    });
    return code;
  }
  const out = process.stderr;
  if (result.ok) {
    out.write(
      `flashed ${image.source} (${sizeText(imageSize(image))}) to ${device} on ${port}: ${describeStats(result.stats)}\n`,
    );
    for (const note of result.stats.notes ?? []) out.write(`  note: ${note}\n`);
    return code;
  }
  out.write(`subflash flash: ${result.error.message}\n`);
  if (result.previous === "untouched") out.write("previous firmware: untouched (nothing was erased)\n");
  else if (result.previous === "replaced")
    out.write("the new firmware is flashed and verified; only starting it failed\n");
  else {
    out.write(
      "previous firmware: PARTLY ERASED. The module needs recovery: run subflash flash again " +
        "(the ROM bootloader cannot be erased, so the module can always be re-flashed)\n",
    );
  }
  return code;
}
