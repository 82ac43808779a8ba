/** firmware/app/sf_sysmem.h is generated from the device table and must not go stale. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEVICES } from "../../src/index.js";
import { entryAddress, renderHeader } from "../../scripts/gen-firmware-header.js";
import { FIRMWARE_DIR } from "./support.js";

const SCRIPT = new URL("../../scripts/gen-firmware-header.ts", import.meta.url).pathname;

function check(file: string): number {
  try {
    execFileSync(process.execPath, ["--import", "tsx", SCRIPT, "--check", "--out", file], { stdio: "pipe" });
    return 0;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe("sf_sysmem.h", () => {
  it("matches what the device table generates", () => {
    expect(readFileSync(join(FIRMWARE_DIR, "app/sf_sysmem.h"), "utf8")).toBe(renderHeader(DEVICES));
  });

  it("has one entry per product ID of the device table", () => {
    const text = renderHeader(DEVICES);
    for (const d of DEVICES) expect(text).toContain(`case 0x${d.pid.toString(16).toUpperCase()}u:`);
  });

  it("uses the bootloader entry inside system memory on H74x/75x (AN2606), the system-memory start elsewhere", () => {
    const h743 = DEVICES.find((d) => d.pid === 0x450)!;
    const g071 = DEVICES.find((d) => d.pid === 0x460)!;
    expect(entryAddress(h743)).toBe(0x1ff09800);
    expect(entryAddress(g071)).toBe(0x1fff0000);
  });

  it("--check fails on a stale header and passes on a fresh one", () => {
    const dir = mkdtempSync(join(tmpdir(), "subflash-sysmem-"));
    try {
      const file = join(dir, "sf_sysmem.h");
      writeFileSync(file, renderHeader(DEVICES).replace("0x1FFF0000u", "0x1FFF0004u"));
      expect(check(file)).toBe(1);
      writeFileSync(file, renderHeader(DEVICES));
      expect(check(file)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
