import { mkdtemp, rm, writeFile, mkdir, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageError, detectFormat, loadImage } from "../../../src/targets/image/index.js";
import { pattern, writeElf } from "./elf-writer.js";

const HEX = ":020000040800F2\n:0400000001020304F2\n:00000001FF\n";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "subflash-image-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function loadError(path: string, opts?: Parameters<typeof loadImage>[1]): Promise<ImageError> {
  const error: unknown = await loadImage(path, opts).then(
    () => new Error("loadImage resolved"),
    (e: unknown) => e,
  );
  if (error instanceof ImageError) return error;
  throw error;
}

describe("loadImage", () => {
  it("reads a .bin at the flash start, or at the given address", async () => {
    const path = await file("app.bin", Uint8Array.of(1, 2, 3, 4));
    const image = await loadImage(path);
    expect(image).toMatchObject({ format: "bin", source: path });
    expect(image.segments[0]!.address).toBe(0x08000000);
    expect((await loadImage(path, { address: 0x08008000 })).segments[0]!.address).toBe(0x08008000);
  });

  it("reads .hex, .ihex and .ihx files as Intel HEX", async () => {
    for (const name of ["a.hex", "a.ihex", "a.IHX"]) {
      const image = await loadImage(await file(name, HEX));
      expect(image.format).toBe("hex");
      expect(image.segments[0]).toEqual({ address: 0x08000000, data: Uint8Array.of(1, 2, 3, 4) });
    }
  });

  it("reads .elf, .axf and .out files as ELF", async () => {
    const elf = writeElf([{ paddr: 0x08000000, data: pattern(64) }]);
    for (const name of ["a.elf", "a.axf", "a.out"])
      expect((await loadImage(await file(name, elf))).format).toBe("elf");
  });

  it("sniffs ELF and Intel HEX content when the extension says nothing", async () => {
    expect(
      (await loadImage(await file("firmware", writeElf([{ paddr: 0x08000000, data: pattern(8) }])))).format,
    ).toBe("elf");
    expect((await loadImage(await file("firmware.img", HEX))).format).toBe("hex");
    expect((await loadImage(await file("firmware.dat", Uint8Array.of(0x00, 0x50, 0x00, 0x20)))).format).toBe(
      "bin",
    );
  });

  it("lets the format option override the extension", async () => {
    const path = await file("looks-like.bin", HEX);
    expect((await loadImage(path)).format).toBe("bin");
    expect((await loadImage(path, { format: "hex" })).format).toBe("hex");
  });

  it("refuses an address for a HEX or ELF file", async () => {
    const e = await loadError(await file("b.hex", HEX), { address: 0x08001000 });
    expect(e.code).toBe("invalid-option");
    expect(e.message).toMatch(/raw binaries only/);
  });

  it("refuses S-records with a hint to convert", async () => {
    const e = await loadError(await file("fw.s19", "S00F000068656C6C6F202020202000003C\n"));
    expect(e.code).toBe("unsupported-format");
    expect(e.message).toMatch(/objcopy/);
    expect(() => detectFormat("x", new Uint8Array(1), "srec" as never)).toThrow(
      /is not one of bin, hex, elf/,
    );
  });

  it("refuses an empty file", async () => {
    const e = await loadError(await file("empty.hex", ""));
    expect(e.code).toBe("empty");
  });

  it("reports a missing file, a directory and an unreadable file as unreadable", async () => {
    const missing = await loadError(join(dir, "nope.bin"));
    expect(missing.code).toBe("unreadable");
    expect(missing.message).toContain("nope.bin: no such file");
    const sub = join(dir, "sub.bin");
    await mkdir(sub);
    expect((await loadError(sub)).message).toMatch(/is a directory/);
    if (process.getuid?.() !== 0) {
      const locked = await file("locked.bin", Uint8Array.of(1));
      await chmod(locked, 0o000);
      expect((await loadError(locked)).message).toMatch(/permission denied/);
    }
  });

  it("passes parser errors through with the file path", async () => {
    const e = await loadError(await file("bad.hex", ":0400000001020304F3\n:00000001FF\n"));
    expect(e.code).toBe("malformed-hex");
    expect(e.message).toContain("bad.hex line 1:");
  });
});
