/** Reading a firmware file from disk and picking its parser. */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parseBinary } from "./binary.js";
import { isElf, parseElf } from "./elf.js";
import { ImageError } from "./errors.js";
import type { FirmwareImage, ImageFormat } from "./image.js";
import { parseIntelHex } from "./intel-hex.js";

export interface LoadImageOptions {
  /** Load address of a raw binary (default 0x08000000, the flash start). Refused for HEX and ELF, which carry their own. */
  address?: number;
  /** Skips detection. */
  format?: ImageFormat;
}

const BY_EXTENSION: Readonly<Record<string, ImageFormat>> = {
  ".bin": "bin",
  ".hex": "hex",
  ".ihex": "hex",
  ".ihx": "hex",
  ".elf": "elf",
  ".axf": "elf",
  ".out": "elf",
};

/** Formats people try to flash that we do not read, with what to do instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  ".srec": "Motorola S-records",
  ".s19": "Motorola S-records",
  ".s28": "Motorola S-records",
  ".s37": "Motorola S-records",
  ".mot": "Motorola S-records",
  ".dfu": "DfuSe containers",
  ".uf2": "UF2 containers",
};

const FORMATS: readonly ImageFormat[] = ["bin", "hex", "elf"];

/**
 * The format of a file: the option if given, else the extension (.bin; .hex/.ihex/.ihx;
 * .elf/.axf/.out), else the content (ELF magic; a first line that is an Intel HEX record), else raw
 * binary. Throws ImageError "unsupported-format" for formats we know and do not read.
 */
export function detectFormat(path: string, bytes: Uint8Array, format?: ImageFormat): ImageFormat {
  if (format !== undefined) {
    if (!FORMATS.includes(format)) {
      throw new ImageError(
        "unsupported-format",
        `${path}: format "${String(format)}" is not one of ${FORMATS.join(", ")}`,
        { source: path, format },
      );
    }
    return format;
  }
  const ext = extname(path).toLowerCase();
  const byExtension = BY_EXTENSION[ext];
  if (byExtension) return byExtension;
  const unsupported = UNSUPPORTED[ext];
  if (unsupported) {
    throw new ImageError(
      "unsupported-format",
      `${path}: ${unsupported} are not supported; convert it to .bin, .hex or .elf (e.g. objcopy -O ihex, or -O binary)`,
      { source: path, extension: ext },
    );
  }
  if (isElf(bytes)) return "elf";
  if (looksLikeIntelHex(bytes)) return "hex";
  return "bin";
}

function looksLikeIntelHex(bytes: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 600));
  const firstLine =
    head
      .replace(/^\uFEFF/, "")
      .trimStart()
      .split(/\r\n|\r|\n/)[0] ?? "";
  return /^:[0-9A-Fa-f]{10,}\s*$/.test(firstLine);
}

/**
 * Reads and parses a firmware file. Throws ImageError: "unreadable" (missing, no permission, a
 * directory), "empty", "invalid-option" (an address for a HEX or ELF file), "unsupported-format",
 * or the parser's own codes.
 */
export async function loadImage(path: string, opts: LoadImageOptions = {}): Promise<FirmwareImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : String((cause as Error).message);
    throw new ImageError(
      "unreadable",
      `cannot read firmware file ${path}: ${reason}`,
      { source: path, errno: code },
      { cause },
    );
  }
  if (bytes.length === 0) throw new ImageError("empty", `${path}: the file is empty`, { source: path });
  const format = detectFormat(path, bytes, opts.format);
  if (opts.address !== undefined && format !== "bin") {
    throw new ImageError(
      "invalid-option",
      `${path}: a load address applies to raw binaries only; this ${format === "hex" ? "Intel HEX" : "ELF"} file carries its own addresses`,
      {
        source: path,
        format,
        address: opts.address,
      },
    );
  }
  switch (format) {
    case "bin":
      return parseBinary(bytes, opts.address, path);
    case "hex":
      return parseIntelHex(new TextDecoder("latin1").decode(bytes), path);
    case "elf":
      return parseElf(bytes, path);
  }
}
