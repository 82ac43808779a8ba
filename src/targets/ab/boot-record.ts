/**
 * The A/B boot record (design decision 4; specified for firmware authors in docs/module-firmware.md).
 * It is the contract between the gateway (which writes it) and module firmware (whose slot selector
 * reads it; the simulator's in src/sim/firmware), so it lives below both.
 *
 * Two copies, each in its own erase unit. Each copy is 64 bytes, little-endian:
 *
 *   0  u8[4]  magic "SFBR"
 *   4  u8     format version (1)
 *   5  u8     flags: bit 0 = TRIAL (1: boot the active slot once, then fall back unless confirmed)
 *   6  u8     active slot: 0 = A, 1 = B
 *   7  u8     fallback slot: 0 = A, 1 = B, 0xFF = none
 *   8  u32    sequence (each record written gets the highest sequence seen + 1)
 *  12  u32    active slot start address
 *  16  u32    active image length in bytes
 *  20  u32    active image CRC (STM32 CRC-32 over the image, 0xFF-padded to whole words)
 *  24  u32    fallback slot start address (0xFFFFFFFF: none)
 *  28  u32    record CRC: STM32 CRC-32 over bytes 0..27 (the ROM's Get Checksum algorithm, §2.3.14)
 *  32  u8[32] trial-attempt marker: written as 0xFF; the selector programs it (to zeros) just before
 *             it boots a trial record, so the next reset sees the trial as used. 32 bytes = one flash
 *             word on every family (H7 programs 256-bit words), so the selector can program it once
 *             without touching the CRC-protected part.
 *
 * The copy that is CRC-valid with the highest sequence wins; a power cut while one copy is erased or
 * written leaves the other intact.
 */
import { stm32Crc } from "../../util/digest.js";

export const BOOT_RECORD_SIZE = 64;
export const BOOT_RECORD_MAGIC = Uint8Array.of(0x53, 0x46, 0x42, 0x52); // "SFBR"
export const BOOT_RECORD_VERSION = 1;
const FLAG_TRIAL = 0x01;
const NO_SLOT = 0xff;
const NO_ADDRESS = 0xffffffff;

export type AbSlot = "a" | "b";

export interface BootRecord {
  sequence: number;
  /** True: boot `active` once on trial; unless confirmed before the next reset, boot `fallback`. */
  trial: boolean;
  active: AbSlot;
  activeAddress: number;
  imageLength: number;
  imageCrc: number;
  fallback: AbSlot | null;
  fallbackAddress: number | null;
}

/** A decoded copy: the record when its magic, version and CRC are right, plus whether the trial marker is used. */
export interface BootRecordCopy {
  record: BootRecord | null;
  /** The selector has started the trial once (marker programmed). */
  trialUsed: boolean;
  /** All 0xFF: never written, or erased. */
  erased: boolean;
}

export function encodeBootRecord(record: BootRecord): Uint8Array {
  const bytes = new Uint8Array(BOOT_RECORD_SIZE).fill(0xff);
  const view = new DataView(bytes.buffer);
  bytes.set(BOOT_RECORD_MAGIC, 0);
  view.setUint8(4, BOOT_RECORD_VERSION);
  view.setUint8(5, record.trial ? FLAG_TRIAL : 0);
  view.setUint8(6, slotIndex(record.active));
  view.setUint8(7, record.fallback === null ? NO_SLOT : slotIndex(record.fallback));
  view.setUint32(8, record.sequence >>> 0, true);
  view.setUint32(12, record.activeAddress >>> 0, true);
  view.setUint32(16, record.imageLength >>> 0, true);
  view.setUint32(20, record.imageCrc >>> 0, true);
  view.setUint32(24, record.fallbackAddress === null ? NO_ADDRESS : record.fallbackAddress >>> 0, true);
  view.setUint32(28, stm32Crc(bytes.subarray(0, 28)), true);
  return bytes;
}

export function decodeBootRecord(bytes: Uint8Array): BootRecordCopy {
  if (bytes.length < BOOT_RECORD_SIZE)
    throw new RangeError(`a boot record copy is ${BOOT_RECORD_SIZE} bytes, got ${bytes.length}`);
  const erased = bytes.subarray(0, BOOT_RECORD_SIZE).every((b) => b === 0xff);
  const trialUsed = !bytes.subarray(32, 64).every((b) => b === 0xff);
  const view = new DataView(bytes.buffer, bytes.byteOffset, BOOT_RECORD_SIZE);
  const valid =
    BOOT_RECORD_MAGIC.every((b, i) => bytes[i] === b) &&
    view.getUint8(4) === BOOT_RECORD_VERSION &&
    view.getUint32(28, true) === stm32Crc(bytes.subarray(0, 28)) &&
    view.getUint8(6) <= 1 &&
    (view.getUint8(7) <= 1 || view.getUint8(7) === NO_SLOT);
  if (!valid) return { record: null, trialUsed, erased };
  const fallbackIndex = view.getUint8(7);
  const fallbackAddress = view.getUint32(24, true);
  return {
    record: {
      sequence: view.getUint32(8, true),
      trial: (view.getUint8(5) & FLAG_TRIAL) !== 0,
      active: slotName(view.getUint8(6)),
      activeAddress: view.getUint32(12, true),
      imageLength: view.getUint32(16, true),
      imageCrc: view.getUint32(20, true),
      fallback: fallbackIndex === NO_SLOT ? null : slotName(fallbackIndex),
      fallbackAddress: fallbackIndex === NO_SLOT || fallbackAddress === NO_ADDRESS ? null : fallbackAddress,
    },
    trialUsed,
    erased,
  };
}

/** What the selector will boot on the next reset, given both copies (the rule of docs/module-firmware.md). */
export interface BootDecision {
  /** Index (0 or 1) of the winning copy, or null when neither is valid. */
  winner: 0 | 1 | null;
  record: BootRecord | null;
  /** The slot the selector boots next: the record's active slot, or its fallback when a used trial. Null: no record (slot A by default). */
  boots: AbSlot;
  /** The winning record is a trial not yet started: the next boot is the trial boot. */
  pendingTrial: boolean;
  /** The winning record is a trial whose one boot was used: the selector falls back. */
  trialExpired: boolean;
  /** Highest sequence among valid copies (0 when none). */
  highestSequence: number;
}

export function decideBoot(copies: readonly [BootRecordCopy, BootRecordCopy]): BootDecision {
  const candidates = ([0, 1] as const).filter((i) => copies[i].record !== null);
  // Highest sequence wins; comparison is plain (sequences are 32-bit and only ever grow by one per write).
  const winner = candidates.reduce<0 | 1 | null>(
    (best, i) => (best === null || copies[i].record!.sequence > copies[best].record!.sequence ? i : best),
    null,
  );
  if (winner === null) {
    return { winner, record: null, boots: "a", pendingTrial: false, trialExpired: false, highestSequence: 0 };
  }
  const { record, trialUsed } = copies[winner];
  const r = record!;
  const trialExpired = r.trial && trialUsed;
  return {
    winner,
    record: r,
    boots: trialExpired && r.fallback !== null ? r.fallback : r.active,
    pendingTrial: r.trial && !trialUsed,
    trialExpired,
    highestSequence: r.sequence,
  };
}

/**
 * Which copy a new record goes to: never the winning one, so that until the new copy is complete
 * the current record still decides the boot. With no valid copy, copy 0.
 */
export function copyToWrite(decision: BootDecision): 0 | 1 {
  return decision.winner === 0 ? 1 : 0;
}

function slotIndex(slot: AbSlot): number {
  return slot === "a" ? 0 : 1;
}

function slotName(index: number): AbSlot {
  return index === 0 ? "a" : "b";
}
