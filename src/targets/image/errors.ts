import { SubflashError } from "../../util/errors.js";

export type ImageErrorCode =
  | "unreadable" // the file cannot be read (missing, permissions, a directory)
  | "empty" // no bytes to flash
  | "unsupported-format" // neither binary, Intel HEX nor ELF (or a format we do not read, like S-records)
  | "invalid-option" // an option that does not apply, e.g. an address for a HEX or ELF file
  | "malformed-hex" // an Intel HEX record that cannot be parsed (the message names the line)
  | "malformed-elf" // an ELF file we cannot read (the message names the field or offset)
  | "overlap" // two records or segments claim the same bytes
  | "out-of-range" // the image does not fit the device's flash (or the 32-bit address space)
  | "too-large"; // flattening would allocate an absurd buffer (segments far apart)

/** A firmware file or image that cannot be used: unreadable, malformed, or not fitting the device. */
export class ImageError extends SubflashError<ImageErrorCode> {
  readonly domain = "image";
}
