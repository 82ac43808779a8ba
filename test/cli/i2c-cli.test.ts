/**
 * The I2C side of the CLI on a machine without I2C buses (this one has no /dev/i2c-*): every
 * command fails with a clear message naming the device node, and exit code 1 (2 for bad usage).
 * Scanning and flashing themselves are tested in-process against the simulated bus
 * (test/targets/stm32/i2c-*.test.ts), which the CLI cannot reach from another process.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, subflash } from "./bench-run.js";

function missingBus(): number {
  for (let bus = 250; bus < 1000; bus++) if (!existsSync(`/dev/i2c-${bus}`)) return bus;
  throw new Error("every /dev/i2c-250..999 exists");
}

describe("I2C commands without an I2C bus", () => {
  const bus = missingBus();
  const hint = `/dev/i2c-${bus} does not exist: is the i2c-dev module loaded and the bus number right?`;

  it("scan names the missing bus node and exits 1", async () => {
    const run = await subflash(["scan", "--i2c", String(bus)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`subflash scan: ${hint}`);
    expect(run.stdout).toBe("");
  });

  it("scan --json reports the failure as a result with the stable code", async () => {
    const run = await subflash(["scan", "--i2c", `/dev/i2c-${bus}`, "--json"]);
    expect(run.code).toBe(1);
    const [result] = jsonLines(run.stdout);
    expect(result).toMatchObject({
      event: "result",
      ok: false,
      error: { domain: "transport", code: "bus-missing", context: { port: `/dev/i2c-${bus}` } },
    });
  });

  it("scan without --i2c, or with a range outside 0x03..0x77, is a usage error", async () => {
    expect((await subflash(["scan"])).code).toBe(2);
    const run = await subflash(["scan", "--i2c", "1", "--from", "0x02"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--from/--to must give a range inside 0x03..0x77");
  });

  it.each([
    ["info", []],
    ["flash", ["--device", "g071", "IMAGE"]],
    ["read", ["--address", "0x08000000", "--length", "16", "--out", "OUT"]],
    ["erase", ["--pages", "0-1"]],
    ["unprotect", ["--write"]],
  ])("%s --i2c names the missing bus node and exits 1", async (command, extra) => {
    const dir = mkdtempSync(join(tmpdir(), "subflash-i2c-cli-"));
    try {
      const image = join(dir, "fw.bin");
      writeFileSync(image, Uint8Array.of(1, 2, 3, 4));
      const args = extra.map((a) => (a === "IMAGE" ? image : a === "OUT" ? join(dir, "out.bin") : a));
      const run = await subflash([command, "--i2c", String(bus), "--i2c-address", "0x51", ...args]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`subflash ${command}: ${hint}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes the bootloader address from the device table, and asks for it when the table has none", async () => {
    const known = await subflash(["info", "--i2c", String(bus), "--device", "g071"]);
    expect(known.code).toBe(1);
    expect(known.stderr).toContain(hint);
    const unknown = await subflash(["info", "--i2c", String(bus), "--device", "f407"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("give the bootloader's 7-bit I2C address with --i2c-address");
  });

  it("says how to find an address the device table does not know: a bus scan", async () => {
    const unknown = await subflash(["info", "--i2c", String(bus), "--device", "f303"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("the device table does not know it for STM32F302xB/C, F303xB/C, F358");
    expect(unknown.stderr).toContain(`subflash scan --i2c ${bus}`);
    expect(unknown.stderr).toContain("i2cdetect");
  });

  it("refuses --port together with --i2c, and the DTR/RTS sequences with --i2c", async () => {
    const both = await subflash(["info", "--i2c", String(bus), "--port", "/dev/ttyS0"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give either --port (USART) or --i2c (I2C), not both");
    const entry = await subflash(["info", "--i2c", String(bus), "--i2c-address", "0x51", "--entry", "auto"]);
    expect(entry.code).toBe(2);
    expect(entry.stderr).toContain("--entry/--exit drive a serial adapter's DTR/RTS lines");
  });
});
