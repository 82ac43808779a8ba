/**
 * The production TargetFactory: a module's serial line is opened with openSerialTransport (the
 * configured path, baud and parity), an I2C module's bus with openI2cTransport (i2c-dev), its
 * BOOT0/NRST lines are driven through libgpiod's gpioset.
 */
import { openSerialTransport } from "../../targets/index.js";
import { openI2cTransport } from "../../targets/index.js";
import { silentLogger, type Logger } from "../../util/logger.js";
import { GatewayError } from "../errors.js";
import { GpiosetLines } from "../../targets/index.js";
import type { TargetFactory } from "./targets.js";

export function createDefaultTargetFactory(logger: Logger = silentLogger): TargetFactory {
  return {
    openSerial: (module, settings) =>
      openSerialTransport(settings.path, {
        baud: settings.baud,
        parity: settings.parity,
        logger: logger.child({ module: module.id, port: settings.path }),
      }),
    openI2c: (module, settings) =>
      openI2cTransport(settings.bus, settings.address, {
        clockHz: settings.clockHz,
        logger: logger.child({ module: module.id, bus: settings.bus }),
      }),
    resetLines: (module) => {
      if (module.entry.method !== "gpio") {
        throw new GatewayError(
          "internal",
          `module ${module.id}: GPIO lines asked for, but its entry method is ${module.entry.method}`,
          { module: module.id },
        );
      }
      return new GpiosetLines(module.entry, logger.child({ module: module.id, chip: module.entry.chip }));
    },
  };
}
