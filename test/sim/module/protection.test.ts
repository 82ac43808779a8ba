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

describe("read-out protection level 1 (§1.3)", () => {
  it("NACKs every memory command right after its command frame", async () => {
    const h = await synced("g071", { rdp: 1, bootloaderVersion: 0x33 });
    for (const op of [0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0xa1]) expect(await h.command(op)).toBe(NACK);
    expect(sim.state).toBe("bootloader");
  });

  it("still answers Get, Get Version and Get ID", async () => {
    const h = await synced("g071", { rdp: 1 });
    await h.send(0x00, 0xff);
    expect((await h.read(15))[0]).toBe(ACK);
    await h.send(0x01, 0xfe);
    expect(await h.read(5)).toEqual([ACK, 0x31, 0, 0, ACK]);
    await h.send(0x02, 0xfd);
    expect(await h.read(5)).toEqual([ACK, 1, 0x04, 0x60, ACK]);
  });

  it("lifts protection with Readout Unprotect: two ACKs, mass erase, RDP 0, reset into WAIT_SYNC", async () => {
    const h = await synced("g071", { rdp: 1, initialFlash: pattern(4096) });
    await h.send(0x92, 0x6d);
    expect(await h.read(2)).toEqual([ACK, ACK]);
    expect(sim.rdp).toBe(0);
    expect(sim.state).toBe("bootloader-sync");
    expect(sim.memory.read(0x08000000, 4096).every((b) => b === 0xff)).toBe(true);
    // a reset module needs the activation byte again: a command before it is ignored
    await h.send(0x01, 0xfe);
    expect(await h.silence()).toBe(true);
    expect(await h.sync()).toBe(ACK);
    expect(await h.readMemory(0x08000000, 4)).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it("sets protection with Readout Protect (ACK, ACK, reset), after which reads are refused", async () => {
    const h = await synced("f103");
    await h.send(0x82, 0x7d);
    expect(await h.read(2)).toEqual([ACK, ACK]);
    expect(sim.rdp).toBe(1);
    expect(sim.state).toBe("bootloader-sync");
    expect(await h.sync()).toBe(ACK);
    expect(await h.readMemory(0x08000000, 4)).toEqual({ nackAt: "command" });
    // the option bytes show it (F1 layout: RDP byte no longer 0xA5)
    expect(sim.memory.read(0x1ffff800, 2)).toEqual(new Uint8Array([0x00, 0xff]));
  });
});

describe("write protection", () => {
  it("protects the given WRP sectors (F1: 4 pages each), then resets", async () => {
    const h = await synced("f103");
    expect(await h.command(0x63)).toBe(ACK);
    expect(await h.frame(withXor(1, 0, 2))).toBe(ACK);
    expect(sim.wrp).toEqual([0, 2]);
    expect(sim.state).toBe("bootloader-sync");
    // WRP0 option byte: bits 0 and 2 cleared
    expect(sim.memory.read(0x1ffff808, 2)).toEqual(new Uint8Array([0xfa, 0x05]));
  });

  it("ACKs a write into a protected sector but changes nothing (AN3155 behaviour as documented)", async () => {
    const h = await synced("f103", { wrp: [2] });
    expect(await h.writeMemory(0x08002000, [1, 2, 3, 4])).toBe("ack"); // page 8 = sector 2
    expect(sim.memory.read(0x08002000, 4)).toEqual(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(await h.writeMemory(0x08003000, [1, 2, 3, 4])).toBe("ack"); // sector 3: written
    expect(sim.memory.read(0x08003000, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  it("NACKs an erase of a protected page, and a global erase while any sector is protected", async () => {
    const h = await synced("f103", { wrp: [1], initialFlash: new Uint8Array(0x2000).fill(0) });
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame(withXor(0, 5))).toBe(NACK); // page 5 is in sector 1
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame([0xff, 0x00])).toBe(NACK);
    expect(await h.command(0x43)).toBe(ACK);
    expect(await h.frame(withXor(0, 0))).toBe(ACK); // sector 0 is free
    expect(sim.memory.read(0x08001400, 1)).toEqual(new Uint8Array([0]));
  });

  it("replaces the protected set on a second Write Protect", async () => {
    const h = await synced("f407");
    expect(await h.command(0x63)).toBe(ACK);
    expect(await h.frame(withXor(1, 3, 4))).toBe(ACK);
    expect(await h.sync()).toBe(ACK);
    expect(await h.command(0x63)).toBe(ACK);
    expect(await h.frame(withXor(0, 7))).toBe(ACK);
    expect(sim.wrp).toEqual([7]);
  });

  it("clears all protection with Write Unprotect (ACK, ACK), then resets", async () => {
    const h = await synced("g071", { wrp: [3, 4] });
    await h.send(0x73, 0x8c);
    expect(await h.read(2)).toEqual([ACK, ACK]);
    expect(sim.wrp).toEqual([]);
    expect(sim.state).toBe("bootloader-sync");
  });
});
