import { afterEach, describe, expect, it } from "vitest";
import {
  createSimulatedModule,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost, addressFrame, dataFrame, pattern } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

async function synced(options: Partial<SimOptions> = {}): Promise<RawHost> {
  sim = createSimulatedModule({ device: "g071", timing: false, ...options });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

describe("fault injection", () => {
  it("drops the Nth host→device byte: the device waits for the missing byte", async () => {
    const h = await synced();
    const fault = sim.injectFault({ kind: "drop", direction: "rx", atByte: 2 });
    await h.send(0x01, 0xfe);
    expect(await h.silence()).toBe(true);
    expect(fault.fired).toBe(true);
    await h.send(0xfe); // completes the pair 01 FE
    expect(await h.read(5)).toEqual([ACK, 0x31, 0, 0, ACK]);
  });

  it("drops the Nth device→host byte", async () => {
    const h = await synced();
    sim.injectFault({ kind: "drop", direction: "tx", atByte: 1 });
    await h.send(0x01, 0xfe);
    expect(await h.read(4)).toEqual([0x31, 0, 0, ACK]);
    expect(await h.silence()).toBe(true);
  });

  it("corrupts the Nth host→device byte so the frame fails its check", async () => {
    const h = await synced();
    sim.injectFault({ kind: "corrupt", direction: "rx", atByte: 2, mask: 0x40 });
    await h.send(0x01, 0xfe);
    expect(await h.read(1)).toEqual([NACK]);
  });

  it("corrupts the Nth device→host byte (default mask flips bit 0)", async () => {
    const h = await synced();
    sim.injectFault({ kind: "corrupt", direction: "tx", atByte: 2 });
    await h.send(0x01, 0xfe);
    expect(await h.read(5)).toEqual([ACK, 0x30, 0, 0, ACK]);
  });

  it("NACKs the Nth Write Memory without programming it, and only that one", async () => {
    const h = await synced();
    sim.injectFault({ kind: "nack-write", nth: 2 });
    expect(await h.writeMemory(0x08000000, [1, 1, 1, 1, 1, 1, 1, 1])).toBe("ack");
    expect(await h.writeMemory(0x08000008, [2, 2, 2, 2, 2, 2, 2, 2])).toBe("nack-data");
    expect(sim.memory.read(0x08000008, 8).every((b) => b === 0xff)).toBe(true);
    expect(await h.writeMemory(0x08000008, [2, 2, 2, 2, 2, 2, 2, 2])).toBe("ack");
    expect(sim.faults.map((f) => f.fired)).toEqual([true]);
  });

  it("cuts power at byte N: silent, partial block in flash, WAIT_SYNC after power-up", async () => {
    const h = await synced({ timing: true });
    const data = pattern(256, 21);
    expect(await h.command(0x31)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
    // The data frame (258 bytes), then filler: byte 258+15 is on the wire ~1.4 ms into the
    // 2.7 ms the G0 needs to program 256 bytes — that is when the power goes.
    sim.injectFault({ kind: "power-cut", atByte: 258 + 15 });
    await h.send(...dataFrame(data), ...new Array<number>(20).fill(0));
    expect(await h.silence(40)).toBe(true);
    expect(sim.state).toBe("off");

    const flash = sim.memory.read(0x08000000, 256);
    const programmed = flash.findIndex((b, i) => b !== data[i]);
    expect(programmed % 8).toBe(0); // whole double words
    expect(programmed).toBeGreaterThan(64);
    expect(programmed).toBeLessThan(192);
    expect(flash.subarray(programmed).every((b) => b === 0xff)).toBe(true);

    await h.send(0x7f); // nobody home
    expect(await h.silence()).toBe(true);
    sim.powerOn();
    expect(sim.state).toBe("bootloader-sync");
    await h.send(0x01, 0xfe); // a command before the activation byte is ignored
    expect(await h.silence()).toBe(true);
    expect(await h.sync()).toBe(ACK);
    expect(await h.readMemory(0x08000000, 8)).toEqual(Array.from(data.subarray(0, 8)));
  });

  it("keeps a completed operation when power goes afterwards", async () => {
    const h = await synced({ timing: true });
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
    sim.powerOff();
    sim.powerOn();
    expect(Array.from(sim.memory.read(0x08000000, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("keeps the Nth flash operation busy longer (the final ACK comes that much later)", async () => {
    const h = await synced({ timing: true });
    sim.injectFault({ kind: "busy", nth: 1, ms: 60 });
    const start = performance.now();
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
    expect(performance.now() - start).toBeGreaterThanOrEqual(60);
    expect(sim.stats.flashBusyMs).toBeGreaterThanOrEqual(60);
  });

  it("refuses a fault whose count is not a positive integer", async () => {
    await synced();
    expect(() => sim.injectFault({ kind: "drop", direction: "rx", atByte: 0 })).toThrow(RangeError);
  });
});
