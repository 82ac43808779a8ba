/**
 * Session-level I2C pieces (AN4221): identifying the bootloader with transactions of the right
 * lengths, and choosing between the plain (clock-stretching) and No-Stretch opcodes.
 *
 * Identification: Get Version first (a fixed one-byte reply, and a clear first contact), then Get
 * with the command count guessed from that version (i2c-commands.ts explains why the guess is never
 * longer than the real reply), then Get ID. A wrong guess is repaired by resynchronising and asking
 * again with the count the device reported.
 */
import { silentLogger, type Logger } from "../../util/logger.js";
import { commandName, versionString } from "./commands/codes.js";
import type { GetReply, IdReply } from "./commands/identify.js";
import {
  guessGetCount,
  i2cGet,
  i2cGetId,
  i2cGetVersion,
  i2cOpcode,
  isCountMismatch,
  needsClockStretching,
  NO_STRETCH,
} from "./i2c-commands.js";
import type { Link, LinkIo } from "./link.js";

export interface I2cIdentity {
  /** Version byte from Get Version (equal to Get's on real ROMs). */
  version: number;
  commands: number[];
  pid: number;
  /** How the session reads completion statuses: BUSY polling (No-Stretch) or clock stretching. */
  completion: I2cCompletion;
}

export interface I2cCompletion {
  /** Every flash command is sent in its No-Stretch form (bootloader v1.1+). */
  noStretch: boolean;
  /**
   * Some flash command exists only in its clock-stretching form (v1.0): the slave holds SCL low
   * while it programs or erases, which many adapters do not tolerate (§3.1, §7).
   */
  clockStretching: boolean;
}

/** The completion mode for a Get list, with the warning a stretching-only list deserves. */
export function i2cCompletion(commands: readonly number[]): I2cCompletion {
  const stretching = needsClockStretching(commands);
  const anyFlash = [...NO_STRETCH.keys()].some((plain) => commands.includes(plain));
  return { noStretch: anyFlash && !stretching, clockStretching: stretching };
}

async function counted<T>(
  link: Link,
  what: string,
  guess: number,
  run: (io: LinkIo, count: number) => Promise<T>,
  log: Logger,
): Promise<T> {
  try {
    return await link.exclusive((io) => run(io, guess));
  } catch (error) {
    if (!isCountMismatch(error)) throw error;
    const count = error.context.count;
    log.debug(
      { guessed: guess, count },
      `${what}: reply length guessed wrong; resynchronising and asking again`,
    );
    await link.resync(`${what} reply length`);
    return link.exclusive((io) => run(io, count));
  }
}

/** Get Version, Get and Get ID over an I2C link. Logs the clock-stretching warning when it applies. */
export async function identifyI2c(link: Link, logger: Logger = silentLogger): Promise<I2cIdentity> {
  const log = logger.child({ layer: "bootloader", port: link.port });
  const version = await link.exclusive(i2cGetVersion);
  const get: GetReply = await counted(link, "Get", guessGetCount(version), i2cGet, log);
  const id: IdReply = await counted(link, "Get ID", 1, i2cGetId, log);
  const completion = i2cCompletion(get.commands);
  if (completion.clockStretching) {
    const only = [...NO_STRETCH.keys()].filter(
      (plain) => get.commands.includes(plain) && i2cOpcode(plain, get.commands) === plain,
    );
    log.warn(
      { version: versionString(get.version), commands: only.map(commandName) },
      "the I2C bootloader has no No-Stretch commands: it will hold SCL low while it erases and programs; " +
        "adapters with a short clock-stretching timeout fail those steps (use an adapter that tolerates stretching)",
    );
  }
  return { version, commands: get.commands, pid: id.pid, completion };
}
