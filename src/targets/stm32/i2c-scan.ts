/**
 * Finds STM32 ROM bootloaders on an I2C bus (`subflash scan --i2c <bus>`).
 *
 * Each address in the range is first probed with a one-byte read transaction, as `i2cdetect -r`
 * does: it writes nothing, so an EEPROM or sensor that answers is not disturbed. A bootloader v1.2
 * completes such a read (it answers i2cdetect-style probes, docs/protocol.md §3.4); older ones may
 * stretch SCL until the adapter gives up — that still proves something acknowledged the address.
 * Every address that acknowledged is then asked Get Version and Get ID. CAUTION: that writes the
 * two-byte command frame (01 FE, then 02 FD) to the device there; a device that is not a bootloader
 * takes them as data (an EEPROM would store 0xFE at offset 0x01). Limit the range to where modules
 * can sit on buses shared with such devices.
 */
import { TransportError } from "../transport/errors.js";
import {
  FIRST_I2C_ADDRESS,
  i2cAddressName,
  LAST_I2C_ADDRESS,
  type I2cBusAccess,
} from "../transport/i2c-types.js";
import { describeError } from "../../util/errors.js";
import { silentLogger, type Logger } from "../../util/logger.js";
import { versionString } from "./commands/codes.js";
import { findDevice } from "./devices.js";
import { i2cGetId, i2cGetVersion } from "./i2c-commands.js";
import { I2cLink, type I2cLinkOptions } from "./link-i2c.js";

export interface I2cScanOptions {
  /** First and last 7-bit address to probe (default 0x03..0x77). */
  from?: number;
  to?: number;
  logger?: Logger;
  /** Link settings for the identification exchanges (short timeouts suit a scan). */
  link?: I2cLinkOptions;
  /** Called after each address, for progress output. */
  onAddress?: (address: number, found: I2cScanEntry | undefined) => void;
}

export interface I2cScanEntry {
  address: number;
  /** Hex form, "0x51". */
  addressName: string;
  /** True when the device answered Get Version like an STM32 ROM bootloader. */
  bootloader: boolean;
  /** I2C protocol version byte and its "1.2" form. */
  version?: number;
  versionName?: string;
  /** Product ID from Get ID, and the device-table name when known. */
  pid?: number;
  device?: string;
  /** Why identification failed, for devices that acknowledged but are not (answering as) bootloaders. */
  error?: string;
}

/** Probes `from..to` on `bus` and returns the devices that acknowledged, identified where possible. */
export async function scanI2cBus(bus: I2cBusAccess, options: I2cScanOptions = {}): Promise<I2cScanEntry[]> {
  const from = options.from ?? FIRST_I2C_ADDRESS;
  const to = options.to ?? LAST_I2C_ADDRESS;
  const log = (options.logger ?? silentLogger).child({ layer: "scan", bus: bus.description });
  const found: I2cScanEntry[] = [];
  for (let address = from; address <= to; address++) {
    const entry = await probe(bus, address, options, log);
    if (entry) found.push(entry);
    options.onAddress?.(address, entry);
  }
  return found;
}

async function probe(
  bus: I2cBusAccess,
  address: number,
  options: I2cScanOptions,
  log: Logger,
): Promise<I2cScanEntry | undefined> {
  const transport = bus.openTransport(address);
  try {
    try {
      await transport.readTransaction(1);
    } catch (error) {
      if (error instanceof TransportError && error.code === "i2c-nack") return undefined;
      if (!(error instanceof TransportError && error.code === "timeout")) throw error;
      log.debug(
        { address: i2cAddressName(address) },
        "probe read timed out (clock stretched): something is there",
      );
    }
    const entry: I2cScanEntry = { address, addressName: i2cAddressName(address), bootloader: false };
    const link = new I2cLink(transport, {
      logger: options.logger,
      timeouts: { latencyMs: 50 },
      resyncRounds: 2,
      ...options.link,
    });
    try {
      const version = await link.exclusive(i2cGetVersion);
      entry.bootloader = true;
      entry.version = version;
      entry.versionName = versionString(version);
      const { pid } = await link.exclusive((io) => i2cGetId(io));
      entry.pid = pid;
      const device = findDevice(pid);
      if (device) entry.device = device.name;
    } catch (error) {
      entry.error = describeError(error);
      log.debug({ address: i2cAddressName(address), err: error }, "no bootloader answer");
    }
    return entry;
  } finally {
    await transport.close();
  }
}
