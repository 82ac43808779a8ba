import { afterEach, describe, expect, it } from "vitest";
import {
  createSimulatedModule,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost, pattern, withXor } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

async function synced(device: string, options: Partial<SimOptions> = {}): Promise<RawHost> {
  sim = createSimulatedModule({ device, timing: false, ...options });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

const isErased = (address: number, length: number): boolean =>
  sim.memory.read(address, length).every((b) => b === 0xff);
const fullFlash = (size: number): SimOptions["initialFlash"] => pattern(size, 3).map((b) => b & 0x7f);

describe("Erase 0x43 (protocol v2.x, one-byte page numbers)", () => {
  it("erases the listed 1 KiB pages of an F103 and nothing else", async () => {
    const h = await synced("f103", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame(withXor(1, 2, 5))).toBe(ACK);
    expect(isErased(0x08000800, 1024)).toBe(true);
    expect(isErased(0x08001400, 1024)).toBe(true);
    expect(isErased(0x08000400, 1024)).toBe(false);
    expect(isErased(0x08000c00, 1024)).toBe(false);
    expect(sim.stats.unitsErased).toBe(2);
  });

  it("erases everything on the global code FF 00", async () => {
    const h = await synced("f103", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame([0xff, 0x00])).toBe(ACK);
    expect(isErased(0x08000000, 0x20000)).toBe(true);
  });

  it("NACKs FF followed by anything but 00", async () => {
    const h = await synced("f103", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame([0xff, 0x01])).toBe(NACK);
    expect(isErased(0x08000000, 1024)).toBe(false);
  });

  it("NACKs a page list with a wrong checksum or a page beyond the flash", async () => {
    const h = await synced("f103", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame([0, 3, 0])).toBe(NACK);
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame(withXor(1, 3, 128))).toBe(NACK);
    expect(isErased(0x08000c00, 1024)).toBe(false);
  });
});

describe("Extended Erase 0x44 (protocol v3.0+)", () => {
  it("erases F4 sector 5: the 128 KiB at 0x08020000, not its neighbours", async () => {
    const h = await synced("f407", { initialFlash: fullFlash(0x60000) });
    expect(await h.extendedErase([5])).toBe(ACK);
    expect(isErased(0x08020000, 128 * 1024)).toBe(true);
    expect(isErased(0x08010000, 0x10000)).toBe(false); // sector 4 (64 KiB)
    expect(isErased(0x08040000, 0x20000)).toBe(false); // sector 6
  });

  it("erases a list of G0 pages given as 16-bit numbers", async () => {
    const h = await synced("g071", { initialFlash: fullFlash(0x20000) });
    expect(await h.extendedErase([0, 63])).toBe(ACK);
    expect(isErased(0x08000000, 2048)).toBe(true);
    expect(isErased(0x0801f800, 2048)).toBe(true);
    expect(isErased(0x08000800, 2048)).toBe(false);
  });

  it("mass-erases on FFFF", async () => {
    const h = await synced("g071", { initialFlash: fullFlash(0x20000) });
    expect(await h.extendedEraseSpecial(0xffff)).toBe(ACK);
    expect(isErased(0x08000000, 0x20000)).toBe(true);
    expect(sim.stats.massErases).toBe(1);
  });

  it("NACKs FFFF on a part without mass erase (L0) and keeps the flash", async () => {
    const h = await synced("l073", { initialFlash: fullFlash(0x30000) });
    expect(await h.extendedEraseSpecial(0xffff)).toBe(NACK);
    expect(isErased(0x08000000, 128)).toBe(false);
  });

  it("erases one bank on FFFE / FFFD of a dual-bank H7", async () => {
    const h = await synced("h743", { initialFlash: fullFlash(0x200000) });
    expect(await h.extendedEraseSpecial(0xfffd)).toBe(ACK);
    expect(isErased(0x08100000, 0x100000)).toBe(true);
    expect(isErased(0x08000000, 0x100000)).toBe(false);
    expect(await h.extendedEraseSpecial(0xfffe)).toBe(ACK);
    expect(isErased(0x08000000, 0x100000)).toBe(true);
  });

  it("NACKs the bank codes on a single-bank part", async () => {
    const h = await synced("g071");
    expect(await h.extendedEraseSpecial(0xfffe)).toBe(NACK);
    expect(await h.extendedEraseSpecial(0xfffd)).toBe(NACK);
  });

  it("NACKs every reserved code FFF0–FFFC", async () => {
    const h = await synced("h743");
    for (let code = 0xfff0; code <= 0xfffc; code++) expect(await h.extendedEraseSpecial(code)).toBe(NACK);
  });

  it("NACKs a special code with a wrong checksum", async () => {
    const h = await synced("g071", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x44)).toBe(ACK);
    expect(await h.frame([0xff, 0xff, 0xff])).toBe(NACK);
    expect(isErased(0x08000000, 2048)).toBe(false);
  });

  it("NACKs a page list with a wrong checksum, and a page number beyond the flash", async () => {
    const h = await synced("g071", { initialFlash: fullFlash(0x20000) });
    expect(await h.command(0x44)).toBe(ACK);
    expect(await h.frame([0x00, 0x00, 0x00, 0x01, 0x00])).toBe(NACK);
    expect(await h.extendedErase([64])).toBe(NACK);
    expect(isErased(0x08000800, 2048)).toBe(false);
  });

  it("NACKs more pages in one command than the part takes (L0: 511)", async () => {
    const h = await synced("l073");
    const pages = Array.from({ length: 512 }, (_, i) => i);
    expect(await h.extendedErase(pages)).toBe(NACK);
    expect(await h.extendedErase(pages.slice(0, 511))).toBe(ACK);
  });
});
