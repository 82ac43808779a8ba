/**
 * The I2C side of the bench commands' target (`--i2c <bus> --i2c-address <7-bit>`): opens the Linux
 * I2C bus and identifies the bootloader at the address (AN4221; no activation byte on I2C).
 *
 * The slave address option is `--i2c-address`, not `--address`: `flash` and `read` already use
 * `--address` for a memory address. It defaults to the part's AN2606 address when `--device` names
 * a part whose address the device table knows (e.g. 0x51 for the G07x/G08x).
 */
import { Option, type Command } from "commander";
import { DEFAULT_I2C_CLOCK_HZ } from "../targets/index.js";
import { Bootloader } from "../targets/index.js";
import type { DeviceInfo } from "../targets/index.js";
import type { Logger } from "../util/logger.js";
import { parseNumber, UsageError } from "./run.js";
import type { Target } from "./target.js";

export interface I2cTargetFlags {
  i2c?: string;
  i2cAddress?: string;
  i2cClock?: string;
  port?: string;
  entry?: string;
  exit?: string;
}

/** Adds --i2c, --i2c-address and --i2c-clock. */
export function addI2cTargetOptions(command: Command): Command {
  return command
    .option(
      "--i2c <bus>",
      "reach the bootloader over I2C (AN4221) on this bus: 1 or /dev/i2c-1 (instead of --port)",
    )
    .option(
      "--i2c-address <addr>",
      "7-bit I2C address of the bootloader, e.g. 0x51 (default: the AN2606 address of --device)",
    )
    .addOption(
      new Option("--i2c-clock <hz>", "clock the I2C adapter runs at, for timeouts").default(
        String(DEFAULT_I2C_CLOCK_HZ),
      ),
    );
}

/** Opens the I2C bus, contacts and identifies the bootloader; closes the bus again on failure. */
export async function openI2cTarget(
  flags: I2cTargetFlags,
  device: DeviceInfo | undefined,
  logger: Logger,
): Promise<Target> {
  if (flags.port !== undefined) throw new UsageError("give either --port (USART) or --i2c (I2C), not both");
  if (flags.entry !== undefined || flags.exit !== undefined) {
    throw new UsageError(
      "--entry/--exit drive a serial adapter's DTR/RTS lines; with --i2c put the module into its bootloader by other means (BOOT0/NRST)",
    );
  }
  const address =
    flags.i2cAddress !== undefined
      ? parseNumber(flags.i2cAddress, "--i2c-address")
      : device?.bootloader.i2cAddress;
  if (address === undefined) {
    throw new UsageError(
      `give the bootloader's 7-bit I2C address with --i2c-address (AN2606 lists it per part${device ? `; the device table does not know it for ${device.name}` : "; or name the part with --device to use the device table's address"}); find it with \`subflash scan --i2c ${flags.i2c ?? "<bus>"}\` or i2cdetect (bootloader I2C v1.2 answers probes)`,
    );
  }
  const clockHz = parseNumber(flags.i2cClock ?? String(DEFAULT_I2C_CLOCK_HZ), "--i2c-clock");
  if (clockHz <= 0) throw new UsageError("--i2c-clock must be positive");
  // i2c-bus (a native addon) is loaded only for an I2C target, not on a serial command's start-up.
  const { openI2cTransport } = await import("../targets/index.js");
  const transport = await openI2cTransport(flags.i2c!, address, { clockHz, logger });
  try {
    const bootloader = await Bootloader.connect(transport, { logger, ...(device ? { device } : {}) });
    return {
      transport,
      bootloader,
      logger,
      async close() {
        await transport.close();
      },
    };
  } catch (error) {
    await transport.close();
    throw error;
  }
}
