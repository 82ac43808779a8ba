/**
 * Shared by the firmware suites: the firmware tool check (skip-proof but honest, like
 * SUBFLASH_REQUIRE_PTY), the make wrapper, and flash images built with the project's own boot-record
 * writer for both the C selector (vector tables) and the TypeScript simulator (SFAP headers).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { encodeBootRecord, stm32Crc, type AbSlot, type BootRecord } from "../../src/index.js";
import { buildSimFirmware } from "../../src/testing.js";

export const FIRMWARE_DIR = fileURLToPath(new URL("../../firmware/", import.meta.url));
export const REQUIRE_FIRMWARE_TOOLS_ENV = "SUBFLASH_REQUIRE_FIRMWARE_TOOLS";

function runs(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

/** Whether the cross tools exist, whether they are required, and a reason to print when skipping. */
export function firmwareTools(tools: readonly string[] = ["arm-none-eabi-gcc", "qemu-system-arm"]): {
  available: boolean;
  required: boolean;
  reason: string;
} {
  const missing = tools.filter((t) => !runs(t, ["--version"]));
  const required = process.env[REQUIRE_FIRMWARE_TOOLS_ENV] === "1";
  const reason =
    missing.length === 0
      ? `${tools.join(", ")} available`
      : `${missing.join(", ")} not installed (${REQUIRE_FIRMWARE_TOOLS_ENV}=${required ? "1" : "unset"})`;
  return { available: missing.length === 0, required, reason };
}

export function make(...targets: string[]): string {
  return execFileSync("make", ["-s", "-C", FIRMWARE_DIR, ...targets], { encoding: "utf8" });
}

export interface Layout {
  flashBase: number;
  flashSize: number;
  records: readonly [number, number];
  slotA: { address: number; size: number };
  slotB: { address: number; size: number };
  ramStart: number;
  ramEnd: number;
  sysmem: number;
}

/** One boot-record copy of a conformance case, before encoding. */
export interface CaseCopy {
  sequence: number;
  trial: boolean;
  active: AbSlot;
  fallback: AbSlot | null;
  /** "image": the active image's length; a number: that many bytes of it; 0: unknown (no check). */
  imageLength: "image" | number;
  /** "image": the CRC of those bytes; "wrong": that CRC with one bit flipped. */
  imageCrc: "image" | "wrong";
  /** The marker is programmed (the trial was started once). */
  trialUsed: boolean;
  /** Damage applied after encoding. "slot-byte" sets the active slot to 2 with a matching CRC. */
  damage: null | "record-crc" | "magic" | "version" | "slot-byte";
}

export type SlotContent = "app" | "bad-vectors" | "erased";

export interface BootCase {
  name: string;
  slots: { a: SlotContent; b: SlotContent };
  copies: [CaseCopy | null, CaseCopy | null];
  expect: { boots: AbSlot | "bootloader"; winner: 0 | 1 | null; mark: 0 | 1 | null; trial: boolean };
}

export type ImageFlavour = "vector-table" | "sim";

/** The bytes of a slot: an image of the given flavour (4 KiB), or erased flash. */
export function slotImage(
  flavour: ImageFlavour,
  content: SlotContent,
  slot: AbSlot,
  layout: Layout,
  app?: Uint8Array,
): Uint8Array {
  const range = slot === "a" ? layout.slotA : layout.slotB;
  if (content === "erased") return new Uint8Array(0);
  let image: Uint8Array;
  if (flavour === "sim") {
    image = buildSimFirmware({ version: `1.0.0-${slot}`, size: 4096 });
    // The simulator's plausibility check is its SFAP header (it executes no vector table).
    if (content === "bad-vectors") image[0] = 0;
  } else if (app) {
    image = new Uint8Array(app); // a copy with its own buffer (a Buffer may sit in a shared pool)
  } else {
    image = new Uint8Array(4096);
    let x = slot === "a" ? 0x1234567 : 0x7654321;
    for (let i = 8; i < image.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      image[i] = (x >>> 16) & 0xfe;
    }
    const view = new DataView(image.buffer);
    view.setUint32(0, layout.ramEnd, true);
    view.setUint32(4, range.address + 0x101, true);
  }
  if (content === "bad-vectors" && flavour === "vector-table")
    new DataView(image.buffer).setUint32(0, 0x12345678, true);
  return image;
}

/** A whole flash image (erased, then slots and record copies) for one case. */
export function buildFlash(
  c: BootCase,
  flavour: ImageFlavour,
  layout: Layout,
  apps?: { a: Uint8Array; b: Uint8Array },
): Uint8Array {
  const flash = new Uint8Array(layout.flashSize).fill(0xff);
  const put = (address: number, bytes: Uint8Array): void => flash.set(bytes, address - layout.flashBase);
  const images = {
    a: slotImage(flavour, c.slots.a, "a", layout, apps?.a),
    b: slotImage(flavour, c.slots.b, "b", layout, apps?.b),
  };
  put(layout.slotA.address, images.a);
  put(layout.slotB.address, images.b);
  c.copies.forEach((copy, index) => {
    if (!copy) return;
    const image = images[copy.active];
    const length = copy.imageLength === "image" ? image.length : copy.imageLength;
    const crc = stm32Crc(image.subarray(0, length));
    const record: BootRecord = {
      sequence: copy.sequence,
      trial: copy.trial,
      active: copy.active,
      activeAddress: copy.active === "a" ? layout.slotA.address : layout.slotB.address,
      imageLength: length,
      imageCrc: copy.imageCrc === "wrong" ? (crc ^ 1) >>> 0 : crc,
      fallback: copy.fallback,
      fallbackAddress:
        copy.fallback === null ? null : copy.fallback === "a" ? layout.slotA.address : layout.slotB.address,
    };
    const bytes = encodeBootRecord(record);
    const view = new DataView(bytes.buffer);
    if (copy.damage === "record-crc") bytes[28] = bytes[28]! ^ 0x01;
    if (copy.damage === "magic") bytes[0] = 0x00;
    if (copy.damage === "version") bytes[4] = 2;
    if (copy.damage === "slot-byte") {
      bytes[6] = 2;
      view.setUint32(28, stm32Crc(bytes.subarray(0, 28)), true);
    }
    if (copy.trialUsed) bytes.fill(0, 32, 64);
    put(layout.records[index]!, bytes);
  });
  return flash;
}
