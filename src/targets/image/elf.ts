/**
 * ELF executables, as an ARM toolchain links them for a Cortex-M: 32-bit, little-endian, machine
 * EM_ARM (40). Only that combination is accepted (no warnings, no guessing): anything else is
 * refused with an ImageError that names the field.
 *
 * What gets flashed is what a loader would copy from the file: every PT_LOAD program header with
 * bytes in the file (p_filesz > 0), placed at its PHYSICAL address p_paddr. p_paddr is the load
 * address (LMA); for .data it is the flash copy of the initialisers, while p_vaddr is where the
 * startup code copies them to in RAM. .bss (p_memsz beyond p_filesz) has no bytes and is skipped.
 * Section headers are not read.
 */
import { addr } from "../../util/logger.js";
import { ImageError } from "./errors.js";
import type { FirmwareImage } from "./image.js";
import { buildImage } from "./segments.js";

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const EV_CURRENT = 1;
const ET_EXEC = 2;
export const EM_ARM = 40;
const PT_LOAD = 1;
/** e_ident (16) + the ELF32 header fields. */
const ELF32_HEADER_SIZE = 52;
const ELF32_PHDR_SIZE = 32;

/** True when the bytes start with the ELF magic number. */
export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parses an ELF32 little-endian ARM executable into an image of its loadable bytes. Throws
 * ImageError "malformed-elf" (not ELF, ELF64, big-endian, not ARM, not an executable, truncated
 * header or program header table, a segment pointing past the end of the file), "overlap" (two
 * segments load to the same address) and "empty" (no segment carries bytes).
 */
export function parseElf(bytes: Uint8Array, source = "<elf>"): FirmwareImage {
  const fail = (problem: string, context: Record<string, unknown> = {}): ImageError =>
    new ImageError("malformed-elf", `${source}: ${problem}`, { source, ...context });

  if (bytes.length < 16 || !isElf(bytes)) throw fail("not an ELF file (no 7F 45 4C 46 magic)");
  const elfClass = bytes[4];
  if (elfClass === 2) throw fail("ELF64 file (EI_CLASS = 2): STM32 firmware is ELF32", { field: "EI_CLASS" });
  if (elfClass !== ELFCLASS32) throw fail(`EI_CLASS ${elfClass} is not ELF32 (1)`, { field: "EI_CLASS" });
  const data = bytes[5];
  if (data === 2)
    throw fail("big-endian ELF (EI_DATA = 2): Cortex-M firmware is little-endian", { field: "EI_DATA" });
  if (data !== ELFDATA2LSB) throw fail(`EI_DATA ${data} is not little-endian (1)`, { field: "EI_DATA" });
  if (bytes[6] !== EV_CURRENT) throw fail(`EI_VERSION ${bytes[6]} is not 1`, { field: "EI_VERSION" });
  if (bytes.length < ELF32_HEADER_SIZE) {
    throw fail(`truncated ELF header: ${bytes.length} bytes, the ELF32 header needs ${ELF32_HEADER_SIZE}`, {
      field: "e_ehsize",
      offset: bytes.length,
    });
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (offset: number): number => view.getUint16(offset, true);
  const u32 = (offset: number): number => view.getUint32(offset, true);

  const type = u16(16);
  const machine = u16(18);
  if (machine !== EM_ARM)
    throw fail(`e_machine ${machine} is not ARM (${EM_ARM})`, { field: "e_machine", value: machine });
  if (type !== ET_EXEC) {
    const what =
      type === 1 ? "a relocatable object (link it first)" : type === 3 ? "a shared object" : `type ${type}`;
    throw fail(`e_type ${type}: ${what}, not an executable (2)`, { field: "e_type", value: type });
  }
  const phoff = u32(28);
  const phentsize = u16(42);
  const phnum = u16(44);
  if (phnum === 0) throw fail("no program headers (e_phnum = 0): nothing to load", { field: "e_phnum" });
  if (phnum === 0xffff)
    throw fail("e_phnum 0xFFFF (extended numbering) is not supported", { field: "e_phnum" });
  if (phentsize < ELF32_PHDR_SIZE) {
    throw fail(`e_phentsize ${phentsize} is smaller than an ELF32 program header (${ELF32_PHDR_SIZE})`, {
      field: "e_phentsize",
      value: phentsize,
    });
  }
  const tableEnd = phoff + phnum * phentsize;
  if (phoff < ELF32_HEADER_SIZE)
    throw fail(`e_phoff 0x${phoff.toString(16)} points into the ELF header`, {
      field: "e_phoff",
      offset: phoff,
    });
  if (tableEnd > bytes.length) {
    throw fail(
      `truncated program header table: ${phnum} entries at e_phoff 0x${phoff.toString(16)} end at 0x${tableEnd.toString(16)}, past the end of the file (0x${bytes.length.toString(16)})`,
      {
        field: "e_phoff",
        offset: phoff,
      },
    );
  }

  const segments: { address: number; data: Uint8Array }[] = [];
  const indexOf: number[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (u32(at) !== PT_LOAD) continue;
    const offset = u32(at + 4);
    const paddr = u32(at + 12);
    const filesz = u32(at + 16);
    if (filesz === 0) continue;
    if (offset + filesz > bytes.length) {
      throw fail(
        `program header ${i}: p_offset 0x${offset.toString(16)} + p_filesz 0x${filesz.toString(16)} points past the end of the file (0x${bytes.length.toString(16)})`,
        { field: "p_offset", header: i, offset },
      );
    }
    if (paddr + filesz > 0x1_0000_0000) {
      throw fail(
        `program header ${i}: p_paddr ${addr(paddr)} + p_filesz 0x${filesz.toString(16)} wraps past the 32-bit address space`,
        {
          field: "p_paddr",
          header: i,
        },
      );
    }
    segments.push({ address: paddr, data: bytes.subarray(offset, offset + filesz) });
    indexOf.push(i);
  }
  if (segments.length === 0) {
    throw new ImageError("empty", `${source}: no PT_LOAD program header carries bytes (p_filesz > 0)`, {
      source,
    });
  }
  return buildImage(
    "elf",
    source,
    segments,
    (k) => `program header ${indexOf[k]} (p_paddr ${addr(segments[k]!.address)})`,
  );
}
