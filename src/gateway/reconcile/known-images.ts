/**
 * The firmware images the gateway knows of for one module, as evidence of what a module may hold:
 * its confirmed and previous images in state.json, and the images of the last run in the journal
 * (targets and what each job replaced). Each comes with the address it is linked for, its length and
 * CRC, so a slot can be matched against it on the device.
 */
import { readdir } from "node:fs/promises";
import { stm32Crc } from "../../signing/index.js";
import type { RunRecord, InstalledImage } from "../run/types.js";
import type { ImageStore } from "../store/image-store.js";
import type { StoredImage } from "./inspect.js";
import type { ModuleRecord } from "../store/state-store.js";

export interface KnownImage extends InstalledImage {
  /** Where the gateway knows it from, for messages. */
  source: "confirmed" | "previous" | "last run";
}

export function knownImages(module: string, record: ModuleRecord, lastRun: RunRecord | null): KnownImage[] {
  const out: KnownImage[] = [];
  const add = (image: InstalledImage | null | undefined, source: KnownImage["source"]): void => {
    if (!image || image.length === 0 || image.crc === null) return;
    if (out.some((k) => k.address === image.address && k.crc === image.crc && k.length === image.length))
      return;
    out.push({ ...image, source });
  };
  add(record.confirmed, "confirmed");
  add(record.previous, "previous");
  for (const job of lastRun?.jobs ?? []) {
    if (job.module !== module) continue;
    for (const [slot, ref] of Object.entries(job.target.images)) {
      add(
        {
          version: job.target.version,
          securityVersion: job.target.securityVersion,
          slot: slot as InstalledImage["slot"],
          address: ref.address,
          length: ref.length,
          crc: ref.crc,
          digest: ref.digest,
          release: job.target.release,
          sequence: job.target.sequence,
        },
        "last run",
      );
    }
    add(job.from, "last run");
  }
  return out;
}

/** The images in the image store no larger than `maxLength` (a slot), by head, length and CRC. */
export async function storedImages(images: ImageStore, maxLength: number): Promise<StoredImage[]> {
  const out: StoredImage[] = [];
  for (const name of await readdir(images.dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const bytes = await images.get(name).catch(() => null);
    if (!bytes || bytes.length > maxLength) continue;
    out.push({ head: bytes.slice(0, 64), length: bytes.length, crc: stm32Crc(bytes) });
  }
  return out;
}
