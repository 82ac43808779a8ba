/** Image descriptions for manifest slots, and the check of received bytes against them. */
import { equalBytes, toHex } from "../signing/index.js";
import { crc32, sha256, stm32Crc } from "../signing/index.js";
import { hex32 } from "./format.js";
import type { ImageSource, SlotImage } from "./types.js";

/** Describes image bytes for a manifest slot: size, SHA-256, CRC-32 and STM32 CRC computed here. */
export function describeImage(
  bytes: Uint8Array,
  placement: { address: number; source: ImageSource },
): SlotImage {
  return {
    address: placement.address,
    size: bytes.length,
    sha256: sha256(bytes),
    crc32: crc32(bytes),
    stm32Crc: stm32Crc(bytes),
    source: placement.source,
  };
}

export type ImageCheckCode = "size-mismatch" | "digest-mismatch" | "crc-mismatch";
export type ImageCheck = { ok: true } | { ok: false; code: ImageCheckCode; message: string };

/**
 * Checks bytes against their slot description: size, then SHA-256, then CRC-32 and STM32 CRC. Use it
 * for images fetched from a URL too, before anything is written.
 */
export function checkImage(image: SlotImage, bytes: Uint8Array): ImageCheck {
  if (bytes.length !== image.size) {
    return {
      ok: false,
      code: "size-mismatch",
      message: `image is ${bytes.length} bytes, the manifest says ${image.size}`,
    };
  }
  const digest = sha256(bytes);
  if (!equalBytes(digest, image.sha256)) {
    return {
      ok: false,
      code: "digest-mismatch",
      message: `SHA-256 ${toHex(digest)} differs from the manifest's ${toHex(image.sha256)}`,
    };
  }
  const crc = crc32(bytes);
  if (crc !== image.crc32)
    return {
      ok: false,
      code: "crc-mismatch",
      message: `CRC-32 ${hex32(crc)} differs from the manifest's ${hex32(image.crc32)}`,
    };
  const hw = stm32Crc(bytes);
  if (hw !== image.stm32Crc) {
    return {
      ok: false,
      code: "crc-mismatch",
      message: `STM32 CRC ${hex32(hw)} differs from the manifest's ${hex32(image.stm32Crc)}`,
    };
  }
  return { ok: true };
}
