/**
 * Looks at what one module holds, through its ROM bootloader: for A/B the boot records (which slot
 * boots, whether a trial is pending) and the active slot's CRC; for a single slot its CRC. The CRC
 * comes from Get Checksum (0xA1, AN3155 §3.13 / AN4221 §3.13) when the Get list offers it and the
 * method allows, else from reading the slot back (Read Memory, AN3155 §3.4). Nothing is written here.
 */
import { stm32Crc } from "../../signing/index.js";
import { decideBoot, type BootDecision, type Bootloader } from "../../targets/index.js";
import type { ModuleConfig } from "../config/config.js";
import { crcMethod, deviceCrc, readBootRecords, readFlash } from "../module/device-ops.js";
import type { Slot } from "../status/types.js";
import type { KnownImage } from "./known-images.js";

export type ReadMethod = "crc" | "readback";

export interface Inspection {
  /** The slot the module boots on its next reset (A/B: by its boot records; single: its slot). */
  boots: Slot;
  address: number;
  decision: BootDecision | null;
  /** How CRCs were obtained on this module. */
  method: ReadMethod;
  /** The known image the booting slot holds, if any (first match: the confirmed one is listed first). */
  holds: KnownImage | null;
  /** A/B: the booting slot matches the length and CRC its boot record states (a complete image). */
  matchesBootRecord: boolean | null;
  /**
   * The slot looks like an interrupted write: erased where an image starts or ends, or starting like
   * an image the image store holds without holding all of it.
   */
  partial: boolean;
}

export class SlotReader {
  readonly #crcs = new Map<string, number>();

  constructor(
    readonly bootloader: Bootloader,
    readonly method: ReadMethod,
  ) {}

  /** How a CRC is actually obtained: "readback" when asked, or when Get Checksum is not offered. */
  get effective(): ReadMethod {
    return this.method === "readback" ? "readback" : crcMethod(this.bootloader);
  }

  async crc(address: number, length: number): Promise<number> {
    const key = `${address}:${length}`;
    const cached = this.#crcs.get(key);
    if (cached !== undefined) return cached;
    const words = Math.ceil(length / 4) * 4;
    const crc =
      this.effective === "crc"
        ? await deviceCrc(this.bootloader, address, length)
        : stm32Crc(await readFlash(this.bootloader, address, words));
    this.#crcs.set(key, crc);
    return crc;
  }

  async holds(image: { address: number; length: number; crc: number | null }): Promise<boolean | null> {
    if (image.length === 0 || image.crc === null) return null;
    return (await this.crc(image.address, image.length)) === image.crc;
  }
}

/** An image in the image store (new images of the last bundle included), by its first bytes. */
export interface StoredImage {
  head: Uint8Array;
  length: number;
  crc: number;
}

export async function inspectModule(
  module: ModuleConfig,
  reader: SlotReader,
  known: readonly KnownImage[],
  stored: readonly StoredImage[],
): Promise<Inspection> {
  const layout = module.layout;
  let boots: Slot = "single";
  let address = layout.kind === "single" ? layout.slot.address : layout.slotA.address;
  let decision: BootDecision | null = null;
  let matchesBootRecord: boolean | null = null;
  let expectLength = 0;
  if (layout.kind === "ab") {
    decision = decideBoot(await readBootRecords(reader.bootloader, layout.bootRecord.copies));
    boots = decision.boots;
    address = boots === "a" ? layout.slotA.address : layout.slotB.address;
    const record = decision.record;
    if (record && record.active === boots && record.imageLength > 0) {
      matchesBootRecord = await reader.holds({
        address,
        length: record.imageLength,
        crc: record.imageCrc,
      });
      expectLength = record.imageLength;
    }
  }
  let holds: KnownImage | null = null;
  for (const image of known) {
    if (image.address !== address) continue;
    if ((await reader.holds(image)) === true) {
      holds = image;
      break;
    }
  }
  expectLength ||= known.find((k) => k.address === address)?.length ?? 0;
  const partial = holds === null && (await looksPartial(reader, address, expectLength, stored));
  return { boots, address, decision, method: reader.effective, holds, matchesBootRecord, partial };
}

const HEAD = 64;

async function looksPartial(
  reader: SlotReader,
  address: number,
  expectLength: number,
  stored: readonly StoredImage[],
): Promise<boolean> {
  const head = await readFlash(reader.bootloader, address, HEAD);
  if (head.every((b) => b === 0xff)) return expectLength > 0 || stored.length > 0;
  if (expectLength > 0 && (await erasedAt(reader, address, expectLength))) return true;
  for (const image of stored) {
    if (image.length < HEAD || !image.head.every((b, i) => b === head[i])) continue;
    if ((await reader.holds({ address, length: image.length, crc: image.crc })) === false) return true;
  }
  return false;
}

/**
 * An interrupted write leaves erased flash where the image should end (the flasher writes in address
 * order). A small read, whatever the method (a checksum cannot tell erased from programmed).
 */
async function erasedAt(reader: SlotReader, address: number, length: number): Promise<boolean> {
  const probe = Math.min(HEAD, length);
  const tailAt = address + Math.max(0, Math.floor((length - probe) / 4) * 4);
  const tail = await readFlash(reader.bootloader, tailAt, probe);
  return tail.every((b) => b === 0xff);
}
