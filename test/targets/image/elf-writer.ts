/**
 * A tiny ELF32 writer for tests: a header, a program header table and the segments' bytes, with
 * every field overridable so tests can build the malformed files they need (no toolchain required).
 */
export interface TestSegment {
  type?: number; // default PT_LOAD (1)
  vaddr?: number; // default = paddr
  paddr: number;
  data: Uint8Array;
  memsz?: number; // default = data.length
  /** Override the file offset written into p_offset (the data is still placed where the writer puts it). */
  offset?: number;
  /** Override p_filesz. */
  filesz?: number;
}

export interface ElfOptions {
  elfClass?: number; // EI_CLASS, 1 = ELF32
  data?: number; // EI_DATA, 1 = little-endian
  version?: number; // EI_VERSION
  type?: number; // e_type, 2 = ET_EXEC
  machine?: number; // e_machine, 40 = EM_ARM
  entry?: number;
  phoff?: number;
  phentsize?: number;
  phnum?: number;
  /** Cut the finished file to this many bytes. */
  truncate?: number;
}

export function writeElf(segments: readonly TestSegment[], options: ElfOptions = {}): Uint8Array {
  const headerSize = 52;
  const phentsize = 32;
  const phoff = headerSize;
  let dataOffset = phoff + segments.length * phentsize;
  const placed = segments.map((s) => {
    const offset = dataOffset;
    dataOffset += s.data.length;
    return { ...s, at: offset };
  });
  const out = new Uint8Array(dataOffset);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, options.elfClass ?? 1, options.data ?? 1, options.version ?? 1], 0);
  view.setUint16(16, options.type ?? 2, true);
  view.setUint16(18, options.machine ?? 40, true);
  view.setUint32(20, 1, true);
  view.setUint32(24, options.entry ?? 0x08000101, true);
  view.setUint32(28, options.phoff ?? phoff, true);
  view.setUint32(32, 0, true); // no section headers
  view.setUint32(36, 0x05000200, true); // EABI5, hard-float flags don't matter
  view.setUint16(40, headerSize, true);
  view.setUint16(42, options.phentsize ?? phentsize, true);
  view.setUint16(44, options.phnum ?? segments.length, true);
  placed.forEach((s, i) => {
    const at = phoff + i * phentsize;
    view.setUint32(at, s.type ?? 1, true);
    view.setUint32(at + 4, s.offset ?? s.at, true);
    view.setUint32(at + 8, s.vaddr ?? s.paddr, true);
    view.setUint32(at + 12, s.paddr, true);
    view.setUint32(at + 16, s.filesz ?? s.data.length, true);
    view.setUint32(at + 20, s.memsz ?? s.data.length, true);
    view.setUint32(at + 24, 5, true); // R+X
    view.setUint32(at + 28, 4, true);
    out.set(s.data, s.at);
  });
  return options.truncate !== undefined ? out.subarray(0, options.truncate) : out;
}

/** Bytes 0, 1, 2… (mod 256) of the given length, offset by `seed`, so segments are told apart. */
export function pattern(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i + seed) & 0xff);
}
