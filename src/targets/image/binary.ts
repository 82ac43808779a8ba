/** Raw binary images: the bytes of the file, loaded at one address. */
import { ImageError } from "./errors.js";
import type { FirmwareImage } from "./image.js";
import { buildImage } from "./segments.js";

/**
 * Where a raw binary goes when no address is given: the start of main flash on every STM32 in the
 * device table (0x08000000), as stm32flash and stm32loader assume too.
 */
export const DEFAULT_BINARY_ADDRESS = 0x08000000;

/**
 * A raw binary as an image of one segment at `address` (default 0x08000000). The segment shares
 * `bytes` (no copy). Throws ImageError "empty" for zero bytes and "out-of-range" when the bytes would
 * run past the 32-bit address space.
 */
export function parseBinary(
  bytes: Uint8Array,
  address: number = DEFAULT_BINARY_ADDRESS,
  source = "<binary>",
): FirmwareImage {
  if (bytes.length === 0) throw new ImageError("empty", `${source}: the file is empty`, { source });
  if (!Number.isInteger(address) || address < 0) {
    throw new ImageError("invalid-option", `${source}: load address ${address} is not a 32-bit address`, {
      source,
      address,
    });
  }
  return buildImage("bin", source, [{ address, data: bytes }], () => "the file");
}
