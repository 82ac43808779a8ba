import { afterEach, describe, expect, it } from "vitest";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import { ACK, RawHost } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

async function synced(device: string): Promise<RawHost> {
  sim = createSimulatedModule({ device, timing: false });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

const at = (address: number, n: number): number[] => Array.from(sim.memory.read(address, n));

describe("flash semantics: erase to 0xFF, program only erased words", () => {
  it("starts erased", async () => {
    await synced("g071");
    expect(at(0x08000000, 16)).toEqual(new Array(16).fill(0xff));
  });

  it("refuses a write over non-erased flash with NACK", async () => {
    const h = await synced("f407");
    expect(await h.writeMemory(0x08000000, [0xf0, 0xf0, 0xf0, 0xf0])).toBe("ack");
    // 0xF0 → 0x70 only clears a bit, but the word is not erased: the controller refuses it
    expect(await h.writeMemory(0x08000000, [0x70, 0xf0, 0xf0, 0xf0])).toBe("nack-data");
    expect(at(0x08000000, 4)).toEqual([0xf0, 0xf0, 0xf0, 0xf0]);
  });

  it("keeps the words programmed before the first refused one", async () => {
    const h = await synced("f407");
    expect(await h.writeMemory(0x08000008, [9, 9, 9, 9])).toBe("ack");
    expect(await h.writeMemory(0x08000000, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4])).toBe(
      "nack-data",
    );
    expect(at(0x08000000, 16)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 9, 9, 9, 9, 0xff, 0xff, 0xff, 0xff]);
  });

  it("refuses rewriting exactly the data already there with NACK, as silicon does (G0 PROGERR)", async () => {
    const h = await synced("g071");
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("nack-data");
    expect(at(0x08000000, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each([
    ["f103", "F1 PGERR"],
    ["l476", "L4 PROGERR"],
    ["h743", "H7 ECC flash word"],
    ["l073", "L0 NOTZEROERR"],
  ])("refuses re-programming a programmed word of %s with its own value (%s)", async (device) => {
    const h = await synced(device);
    const word = Array.from({ length: 32 }, (_, i) => i + 1);
    expect(await h.writeMemory(0x08000000, word)).toBe("ack");
    expect(await h.writeMemory(0x08000000, word)).toBe("nack-data");
  });

  it("allows all-zero words over programmed data on L4 and U5 (PROGERR's documented exception), not on H7", async () => {
    for (const device of ["l476", "u575"]) {
      const h = await synced(device);
      expect(await h.writeMemory(0x08000000, new Array(16).fill(0x5a))).toBe("ack");
      expect(await h.writeMemory(0x08000000, new Array(16).fill(0))).toBe("ack");
      expect(at(0x08000000, 16)).toEqual(new Array(16).fill(0));
      await sim.close();
    }
    const h7 = await synced("h743");
    expect(await h7.writeMemory(0x08000000, new Array(32).fill(0x5a))).toBe("ack");
    expect(await h7.writeMemory(0x08000000, new Array(32).fill(0))).toBe("nack-data");
  });

  it("programs a full flash word even when the host sends half of it (G0 double word, padded with 0xFF)", async () => {
    const h = await synced("g071");
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4])).toBe("ack");
    expect(at(0x08000000, 8)).toEqual([1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff]);
    // the other half of that double word is no longer programmable
    expect(await h.writeMemory(0x08000004, [5, 6, 7, 8])).toBe("nack-data");
  });

  it("allows zeros over anything where the reference manual does (F1 half-words, G0 double words)", async () => {
    const f1 = await synced("f103");
    expect(await f1.writeMemory(0x08000000, [0x12, 0x34, 0x56, 0x78])).toBe("ack");
    expect(await f1.writeMemory(0x08000000, [0, 0, 0, 0])).toBe("ack");
    expect(at(0x08000000, 4)).toEqual([0, 0, 0, 0]);
    await sim.close();
    const f4 = await synced("f407");
    expect(await f4.writeMemory(0x08000000, [0x12, 0x34, 0x56, 0x78])).toBe("ack");
    expect(await f4.writeMemory(0x08000000, [0, 0, 0, 0])).toBe("nack-data");
  });

  it("programs again after the page is erased", async () => {
    const h = await synced("g071");
    expect(await h.writeMemory(0x08000800, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
    expect(await h.extendedErase([1])).toBe(ACK);
    expect(await h.writeMemory(0x08000800, [8, 7, 6, 5, 4, 3, 2, 1])).toBe("ack");
    expect(at(0x08000800, 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it("lets tests preload content without flash rules through the memory backdoor", async () => {
    await synced("g071");
    sim.memory.load(0x08000000, new Uint8Array([1, 2, 3]));
    sim.memory.load(0x08000000, new Uint8Array([0xff, 0xff]));
    expect(at(0x08000000, 3)).toEqual([0xff, 0xff, 3]);
    expect(() => sim.memory.read(0x30000000, 1)).toThrow(/not mapped/);
  });
});
