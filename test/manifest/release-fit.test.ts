/**
 * Issue 10, defects 11 and 12: `release create` signed images the named device could not hold (an
 * ELF entirely in RAM, a 144 KiB image for a 128 KiB F103), and a spec without `device` said only
 * "Invalid input".
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildRelease } from "../../src/manifest/release.js";
import { readReleaseSpec } from "../../src/manifest/release-spec.js";
import { writeElf } from "../targets/image/elf-writer.js";
import { NOW, alice, pattern } from "./fixtures.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "subflash-release-fit-"));
  await writeFile(join(dir, "big.bin"), pattern(144 * 1024, 3));
  await writeFile(join(dir, "ok.bin"), pattern(4096, 3));
  await writeFile(join(dir, "ram.elf"), writeElf([{ paddr: 0x20000000, data: pattern(2048, 9) }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function build(module: Record<string, unknown>) {
  const path = join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    path,
    stringify({ release: "r", targets: { gateways: ["gw"] }, modules: { power: module } }),
  );
  return buildRelease(await readReleaseSpec(path), { keys: [alice], now: NOW });
}

describe("release create checks images against the named device", () => {
  it("refuses a 144 KiB image for a 128 KiB F103, naming module, sizes and flash", async () => {
    await expect(
      build({
        version: "1.0.0",
        device: "f103",
        slots: { single: { file: join(dir, "big.bin"), address: 0x08000000 } },
      }),
    ).rejects.toMatchObject({
      code: "image-outside-flash",
      message: expect.stringMatching(
        /module power slot single: .*does not fit flash 0x08000000.0x08020000 .*image 144 KiB, flash 128 KiB/,
      ) as unknown,
    });
  });

  it("refuses an ELF linked entirely in RAM", async () => {
    await expect(
      build({ version: "1.0.0", device: "f103", slots: { single: { file: join(dir, "ram.elf") } } }),
    ).rejects.toMatchObject({
      code: "image-outside-flash",
      message: expect.stringMatching(/0x20000000/) as unknown,
    });
  });

  it("accepts an image inside the device's flash", async () => {
    const built = await build({
      version: "1.0.0",
      device: "f103",
      slots: { single: { file: join(dir, "ok.bin"), address: 0x08000000 } },
    });
    expect(built.manifest.modules.power!.version).toBe("1.0.0");
  });

  it("names the missing device field", async () => {
    await expect(
      build({ version: "1.0.0", slots: { single: { file: join(dir, "ok.bin"), address: 0x08000000 } } }),
    ).rejects.toMatchObject({
      code: "bad-spec",
      message: expect.stringMatching(/modules\.power\.device: (required|missing)/) as unknown,
    });
  });
});
