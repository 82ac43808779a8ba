/**
 * `subflash release create`: from a release spec to a signed bundle. Reads every image file
 * (.bin/.hex/.elf), flattens it to one contiguous range (gaps filled with 0xFF, as erased flash
 * reads), computes size, SHA-256, CRC-32 and STM32 CRC, and signs.
 */
import { toHex } from "../signing/index.js";
import type { SigningKey } from "../signing/index.js";
import { checkImageFits, findDevice, flattenImage, loadImage, type DeviceInfo } from "../targets/index.js";
import { describeError } from "../util/errors.js";
import { addr } from "../util/logger.js";
import { createBundle } from "./build.js";
import { ManifestError } from "./errors.js";
import { describeImage } from "./images.js";
import { resolveExpiry, type ModuleSpec, type ReleaseSpec, type SlotSpec } from "./release-spec.js";
import {
  FORMAT_VERSION,
  type Manifest,
  type ModuleEntry,
  type ModuleSlots,
  type SlotImage,
} from "./types.js";

export const DEFAULT_EXPIRY = "30d";

export interface ReleaseOptions {
  keys: readonly SigningKey[];
  /** Overrides the spec; default: the spec's, else the current time in milliseconds (monotonic across releases). */
  sequence?: number;
  /** Overrides the spec; default: the spec's, else now. */
  issuedAt?: Date;
  /** Overrides the spec ("30d" or an ISO instant); default: the spec's, else DEFAULT_EXPIRY. */
  expires?: string;
  /** The clock, for defaults (tests). */
  now?: Date;
}

export interface BuiltRelease {
  bundle: Uint8Array;
  manifest: Manifest;
  /** Inline images by index. */
  images: Uint8Array[];
}

/** Builds and signs the bundle a release spec describes. Throws ManifestError (or SigningError) naming the module, slot or field. */
export async function buildRelease(spec: ReleaseSpec, options: ReleaseOptions): Promise<BuiltRelease> {
  const now = options.now ?? new Date();
  const issuedAtDate = options.issuedAt ?? spec.issuedAt ?? now;
  const issuedAt = Math.floor(issuedAtDate.getTime() / 1000);
  const expiresText = options.expires ?? spec.expires ?? DEFAULT_EXPIRY;
  const expires = resolveExpiry(expiresText, issuedAt);
  if (expires === undefined) {
    throw new ManifestError(
      "bad-spec",
      `release spec ${spec.source}: expires "${String(expiresText)}" is neither a duration (30d, 12h) nor an ISO-8601 instant`,
    );
  }

  const images: Uint8Array[] = [];
  const indexByDigest = new Map<string, number>();
  /** Index of the bytes in the bundle; identical images (same SHA-256) travel once. */
  const inline = (bytes: Uint8Array, sha256: Uint8Array): number => {
    const digest = toHex(sha256);
    let index = indexByDigest.get(digest);
    if (index === undefined) {
      index = images.push(bytes) - 1;
      indexByDigest.set(digest, index);
    }
    return index;
  };

  const modules: Record<string, ModuleEntry> = {};
  for (const [type, module] of Object.entries(spec.modules)) {
    modules[type] = {
      version: module.version,
      securityVersion: module.securityVersion,
      slots: await describeSlots(type, module, inline, findDevice(module.pid)),
      order: module.order ?? defaultOrder(type, spec.modules),
      dependsOn: Object.entries(module.dependsOn).map(([moduleType, minVersion]) => ({
        moduleType,
        minVersion,
      })),
      device: { pid: module.pid },
    };
  }

  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    sequence: options.sequence ?? spec.sequence ?? now.getTime(),
    issuedAt,
    expires,
    targets: spec.targets,
    release: spec.release,
    policy: spec.policy,
    modules,
    ...(spec.notes && { notes: spec.notes }),
  };
  return { bundle: createBundle({ manifest, images, keys: options.keys }), manifest, images };
}

async function describeSlots(
  type: string,
  module: ModuleSpec,
  inline: (bytes: Uint8Array, sha256: Uint8Array) => number,
  device: DeviceInfo | undefined,
): Promise<ModuleSlots> {
  const one = (slot: string, spec: SlotSpec): Promise<SlotImage> =>
    describeSlot(`module ${type} slot ${slot}`, spec, inline, device);
  return "single" in module.slots
    ? { single: await one("single", module.slots.single) }
    : { a: await one("a", module.slots.a), b: await one("b", module.slots.b) };
}

async function describeSlot(
  where: string,
  spec: SlotSpec,
  inline: (bytes: Uint8Array, sha256: Uint8Array) => number,
  device: DeviceInfo | undefined,
): Promise<SlotImage> {
  const { address, data } = await readSlotImage(where, spec);
  if (device) checkFits(where, spec.file, address, data, device);
  const image = describeImage(data, {
    address,
    source: spec.url !== undefined ? { url: spec.url } : { inline: 0 },
  });
  if ("inline" in image.source) image.source = { inline: inline(data, image.sha256) };
  return image;
}

/** One contiguous range of bytes and its load address, from a .bin (address from the spec) or a .hex/.elf. */
async function readSlotImage(where: string, spec: SlotSpec): Promise<{ address: number; data: Uint8Array }> {
  try {
    const image = await loadImage(spec.file);
    const flat = flattenImage(image, 0xff);
    if (image.format === "bin") {
      if (spec.address === undefined) {
        throw new ManifestError(
          "bad-spec",
          `${where}: ${spec.file} is a raw binary; give its load address (address: 0x08010000)`,
          { file: spec.file },
        );
      }
      return { address: spec.address, data: flat.data };
    }
    if (spec.address !== undefined && spec.address !== flat.address) {
      throw new ManifestError(
        "bad-spec",
        `${where}: ${spec.file} starts at ${addr(flat.address)}, not at the address ${addr(spec.address)} the spec gives`,
        {
          file: spec.file,
        },
      );
    }
    return flat;
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw new ManifestError(
      "image-unreadable",
      `${where}: ${describeError(error)}`,
      { file: spec.file },
      { cause: error },
    );
  }
}

/**
 * Refuses an image the named device could never run: larger than its main flash, or linked outside it
 * (an ELF entirely in RAM). The gateway would refuse the bundle later; the release tool says so first.
 */
function checkFits(where: string, file: string, address: number, data: Uint8Array, device: DeviceInfo): void {
  try {
    checkImageFits({ format: "bin", source: file, segments: [{ address, data }] }, device);
  } catch (error) {
    const kib = (n: number): string => `${Math.round((n / 1024) * 10) / 10} KiB`;
    const size = device.flash.end - device.flash.start;
    throw new ManifestError(
      "image-outside-flash",
      `${where}: ${describeError(error).replace(/ \[[a-z-]+\]$/, "")} (image ${kib(data.length)}, flash ${kib(size)})`,
      { file, address, length: data.length, pid: device.pid },
      { cause: error },
    );
  }
}

/** Without an explicit order: one more than the highest order among the in-bundle dependencies (0 without). */
function defaultOrder(
  type: string,
  modules: Readonly<Record<string, ModuleSpec>>,
  seen: ReadonlySet<string> = new Set(),
): number {
  const module = modules[type];
  if (!module || seen.has(type)) return 0;
  const inBundle = Object.keys(module.dependsOn).filter((dep) => Object.hasOwn(modules, dep));
  const next = new Set([...seen, type]);
  return inBundle.reduce(
    (max, dep) => Math.max(max, (modules[dep]!.order ?? defaultOrder(dep, modules, next)) + 1),
    0,
  );
}
