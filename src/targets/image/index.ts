/**
 * Firmware images: raw binaries at an address, Intel HEX and ELF, all read into one shape (sorted,
 * non-overlapping segments at absolute addresses; gaps are not part of the image).
 */
export type { FirmwareImage, ImageFormat, ImageSegment } from "./image.js";
export { imageEnd, imageSize, imageStart } from "./image.js";
export { ImageError, type ImageErrorCode } from "./errors.js";
export { DEFAULT_BINARY_ADDRESS, parseBinary } from "./binary.js";
export { parseIntelHex } from "./intel-hex.js";
export { EM_ARM, isElf, parseElf } from "./elf.js";
export { DEFAULT_FLATTEN_LIMIT, buildImage, flattenImage, formatRange } from "./segments.js";
export { checkImageFits } from "./fits.js";
export { detectFormat, loadImage, type LoadImageOptions } from "./load.js";
