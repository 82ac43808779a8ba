/**
 * What a job does with a module through its bootloader session: read and write boot-record copies
 * (each copy erased and written on its own, then read back), checksum a slot on the device, back up a
 * slot by reading it, and flash an image into a slot through the host flasher. Every exchange is
 * retried a bounded number of times over a noisy line, as the flasher's own steps are.
 */
import { stm32Crc } from "../../signing/index.js";
import type { Bootloader } from "../../targets/index.js";
import { Opcode } from "../../targets/index.js";
import { unitsCovering } from "../../targets/index.js";
import type { DiffMode, FlashProgress, FlashResult, KnownContent, VerifyMode } from "../../targets/index.js";
import { flashImage } from "../../targets/index.js";
import { withRetry } from "../../targets/index.js";
import { addr, silentLogger, type Logger } from "../../util/logger.js";
import {
  BOOT_RECORD_SIZE,
  copyToWrite,
  decodeBootRecord,
  encodeBootRecord,
  type BootDecision,
  type BootRecord,
  type BootRecordCopy,
} from "../../targets/index.js";
import { GatewayError } from "../errors.js";

/** Attempts per exchange, first try included (as the flasher's default). */
const ATTEMPTS = 3;

function retrying<T>(
  bl: Bootloader,
  what: string,
  step: () => Promise<T>,
  log: Logger = silentLogger,
): Promise<T> {
  return withRetry({ bootloader: bl, attempts: ATTEMPTS, log, onRetry: () => {} }, what, step);
}

function read(bl: Bootloader, address: number, length: number): Promise<Uint8Array> {
  return retrying(bl, `read at ${addr(address)}`, () => bl.readMemory(address, length));
}

export async function readBootRecords(
  bl: Bootloader,
  copies: readonly [number, number],
): Promise<[BootRecordCopy, BootRecordCopy]> {
  const first = decodeBootRecord(await read(bl, copies[0], BOOT_RECORD_SIZE));
  const second = decodeBootRecord(await read(bl, copies[1], BOOT_RECORD_SIZE));
  return [first, second];
}

/**
 * Writes the record that follows `decision`: the next sequence number, into the copy that does not
 * decide the boot now (so a power cut while writing it changes nothing). Returns what was written.
 */
export async function writeNextBootRecord(
  bl: Bootloader,
  copies: readonly [number, number],
  decision: BootDecision,
  fields: Omit<BootRecord, "sequence">,
  module: string,
): Promise<BootRecord> {
  const record: BootRecord = { sequence: decision.highestSequence + 1, ...fields };
  await writeBootRecordCopy(bl, copies[copyToWrite(decision)], encodeBootRecord(record), module);
  return record;
}

/**
 * Replaces one boot-record copy: erase its erase unit (which holds nothing else, config.ts checks
 * that), write the 64 bytes, read them back. The other copy is not touched, so a power cut here
 * leaves it deciding the boot.
 */
export async function writeBootRecordCopy(
  bl: Bootloader,
  address: number,
  record: Uint8Array,
  module: string,
): Promise<void> {
  const units = unitsCovering(bl.device, address, address + record.length);
  // Erase and write again as a whole on a retry: a half-programmed copy cannot be programmed over.
  await retrying(bl, `boot record at ${addr(address)}`, async () => {
    await bl.erase({ kind: "units", indexes: units.map((u) => u.index) });
    await bl.writeMemory(address, record);
  });
  const back = await read(bl, address, record.length);
  if (!back.every((b, i) => b === record[i])) {
    throw new GatewayError(
      "boot-record-failed",
      `module ${module}: the boot record copy at ${addr(address)} reads back different from what was written`,
      {
        module,
        address,
      },
    );
  }
}

/** How deviceCrc checks flash on this bootloader: its Get Checksum, or reading the bytes back. */
export function crcMethod(bl: Bootloader): "crc" | "readback" {
  return bl.supports(Opcode.getChecksum) ? "crc" : "readback";
}

/** STM32 CRC of `length` bytes of flash at `address`: Get Checksum when the bootloader offers it, else read-back. */
export async function deviceCrc(bl: Bootloader, address: number, length: number): Promise<number> {
  const words = Math.ceil(length / 4) * 4;
  if (crcMethod(bl) === "crc")
    return retrying(bl, `checksum at ${addr(address)}`, () => bl.getChecksum(address, words));
  return stm32Crc(await read(bl, address, words));
}

/** Does the slot hold exactly this image (by CRC)? Unknown length: cannot tell, returns null. */
export async function slotHolds(
  bl: Bootloader,
  image: { address: number; length: number; crc: number | null },
): Promise<boolean | null> {
  if (image.length === 0 || image.crc === null) return null;
  return (await deviceCrc(bl, image.address, image.length)) === image.crc;
}

/** Reads `length` bytes of flash at `address`, in 4 KiB pieces (progress after each). */
export async function readFlash(
  bl: Bootloader,
  address: number,
  length: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const chunk = 4096;
  for (let done = 0; done < length; done += chunk) {
    const n = Math.min(chunk, length - done);
    bytes.set(await read(bl, address + done, n), done);
    onProgress?.(done + n, length);
  }
  return bytes;
}

/**
 * Reads a whole slot back for the image store (firmware whose length the gateway does not know).
 * Trailing erased bytes are dropped, to the flash word.
 */
export async function readSlotImage(
  bl: Bootloader,
  address: number,
  size: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const bytes = await readFlash(bl, address, size, onProgress);
  let end = size;
  while (end > 0 && bytes[end - 1] === 0xff) end--;
  const word = Math.max(4, bl.device.flashWord);
  end = Math.min(size, Math.ceil(end / word) * word);
  return bytes.slice(0, end);
}

export interface FlashSlotOptions {
  verify: VerifyMode;
  /** Differential flashing (default auto): only the erase units that differ are erased and written. */
  diff?: DiffMode;
  /** What the gateway's records say the slot holds (image store), for bootloaders without Get Checksum. */
  known?: readonly KnownContent[];
  trustKnownContent?: boolean;
  signal: AbortSignal;
  logger: Logger;
  onProgress: (progress: FlashProgress) => void;
}

/**
 * Erases the units the image covers that do not already hold it, writes and verifies the whole image
 * (the host flasher; never a mass erase). A resumed write continues from what the module holds.
 */
export function flashSlot(
  bl: Bootloader,
  data: Uint8Array,
  address: number,
  source: string,
  options: FlashSlotOptions,
): Promise<FlashResult> {
  return flashImage(
    bl,
    { format: "bin", source, segments: [{ address, data }] },
    {
      verify: options.verify,
      signal: options.signal,
      logger: options.logger,
      diff: options.diff ?? "auto",
      ...(options.known ? { known: options.known } : {}),
      ...(options.trustKnownContent !== undefined ? { trustKnownContent: options.trustKnownContent } : {}),
    },
    { progress: options.onProgress },
  );
}
