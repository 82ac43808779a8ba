/**
 * Where the simulator must answer byte for byte as silicon does, because real host tools
 * (stm32loader, stm32flash) rely on it. Raw bytes only: our own host stack is not involved.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEVICES } from "../../../src/targets/stm32/devices.js";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost, withXor } from "./raw-host.js";

let sim: SimulatedModule | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function synced(device: string): Promise<RawHost> {
  sim = createSimulatedModule({ device, timing: false });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

describe("Write Protect 0x63 (AN3155 §3.9)", () => {
  it("answers the sector list with exactly one ACK, then resets (7F→79, 63 9C→79, 00 00 00→79)", async () => {
    const h = await synced("f103");
    expect(await h.command(0x63)).toBe(ACK);
    await h.send(...withXor(0x00, 0x00));
    expect(await h.read(1)).toEqual([ACK]);
    expect(await h.silence(50)).toBe(true);
    expect(sim!.state).toBe("bootloader-sync");
    expect(sim!.wrp).toEqual([0]);
  });
});

describe("bootloader ID byte (AN2606)", () => {
  it("serves the G0B1's ID from its second system-memory area at 0x1FFF9FFE", async () => {
    const h = await synced("g0b1");
    expect(await h.readMemory(0x1fff9ffe, 1)).toEqual([0x92]);
    expect(await h.readMemory(0x1fff8000, 256)).toHaveLength(256);
  });

  const withId = DEVICES.filter((d) => d.bootloader.id !== undefined);
  it.each(withId.map((d) => [`${d.name} (${hex(d.pid)})`, d] as const))(
    "%s: Read Memory at the ID address returns AN2606's value",
    async (_, d) => {
      const h = await synced(hex(d.pid));
      const id = d.bootloader.id!;
      expect(await h.readMemory(id.address, 1)).toEqual([id.value]);
    },
  );

  it("has an ID for the families stm32loader found at 0x00 (F0, F3, L5, U5, WL, H5)", () => {
    for (const family of ["F0", "F3", "L5", "U5", "WL", "H5"]) {
      const rows = DEVICES.filter((d) => d.family === family && d.bootloader.id !== undefined);
      expect(rows.length, family).toBeGreaterThan(0);
      for (const d of rows) expect(d.bootloader.id!.value, d.name).not.toBe(0);
    }
  });
});

describe("Extended Erase page-list limits (only where the family documents one)", () => {
  const pages = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it("accepts a list of 512 pages on the L4R, which documents no limit", async () => {
    const h = await synced("l4r5");
    expect(await h.extendedErase(pages(512))).toBe(ACK);
  });

  it("refuses 512 pages on the L07x (511 at most) and accepts 511", async () => {
    const h = await synced("l073");
    expect(await h.extendedErase(pages(512))).toBe(NACK);
    expect(await h.extendedErase(pages(511))).toBe(ACK);
  });

  it("refuses 513 pages on the L1 cat.5 (512 at most) and accepts 512", async () => {
    const h = await synced("l152xe");
    expect(await h.extendedErase(pages(513))).toBe(NACK);
    expect(await h.extendedErase(pages(512))).toBe(ACK);
  });
});
