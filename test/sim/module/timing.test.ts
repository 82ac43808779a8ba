import { afterEach, describe, expect, it } from "vitest";
import { programMs, unitEraseMs } from "../../../src/targets/stm32/device.js";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import { ACK, RawHost, pattern } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

const BAUD = 115200;
const byteMs = (11 * 1000) / BAUD;

async function synced(device = "g071", timing = true): Promise<RawHost> {
  sim = createSimulatedModule({ device, baud: BAUD, timing });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

function snapshot(): { wire: number; flash: number } {
  return { wire: sim.stats.wireRxMs + sim.stats.wireTxMs, flash: sim.stats.flashBusyMs };
}

describe("timing model", () => {
  it("takes (2+5+258+3) byte times plus the program time for a 256-byte Write Memory", async () => {
    const h = await synced();
    const model = 268 * byteMs + programMs(sim.device, 256);
    const before = snapshot();
    const start = performance.now();
    expect(await h.writeMemory(0x08000000, pattern(256))).toBe("ack");
    const elapsed = performance.now() - start;
    const after = snapshot();
    // the virtual clock accounts for exactly the model
    expect(after.wire - before.wire + after.flash - before.flash).toBeCloseTo(model, 6);
    // and the wall clock is never faster. (How much slower depends on the machine's load: that is a
    // speed figure for bench/, not a unit-test assertion; an upper bound here failed CI under load.)
    expect(elapsed).toBeGreaterThanOrEqual(model - 0.05);
  });

  it("delays the erase ACK by the device table's erase time", async () => {
    const h = await synced();
    const start = performance.now();
    expect(await h.extendedErase([3])).toBe(ACK);
    const elapsed = performance.now() - start;
    const model = (2 + 1 + 5 + 1) * byteMs + unitEraseMs(sim.device, 2048);
    expect(sim.stats.flashBusyMs).toBeCloseTo(unitEraseMs(sim.device, 2048), 6);
    expect(elapsed).toBeGreaterThanOrEqual(model - 0.05);
  });

  it("schedules on absolute times: 100 pipelined commands end when the wire says, not 100 timer delays later", async () => {
    const h = await synced();
    const rounds = 100;
    const start = performance.now();
    await h.send(...new Array<number[]>(rounds).fill([0x01, 0xfe]).flat());
    const replies = await h.read(rounds * 5, 2000);
    const elapsed = performance.now() - start;
    expect(replies.slice(-5)).toEqual([ACK, 0x31, 0, 0, ACK]);
    // TX is the bottleneck: the first command's 2 bytes, then 500 reply bytes back to back
    const model = (2 + rounds * 5) * byteMs;
    expect(elapsed).toBeGreaterThanOrEqual(model - 0.05);
    // 100 replies each ≥ 1 ms late (a timer per reply) would add ≥ 100 ms; absolute targets are
    // late at most once (the margin absorbs a loaded machine)
    expect(elapsed).toBeLessThan(model + 60);
  });

  it("delivers a long reply no earlier than its last byte's modelled time", async () => {
    const h = await synced();
    await h.send(0x11, 0xee);
    await h.read(1);
    await h.send(0x08, 0x00, 0x00, 0x00, 0x08);
    await h.read(1);
    const start = performance.now();
    await h.send(0xff, 0x00);
    await h.read(257);
    expect(performance.now() - start).toBeGreaterThanOrEqual((2 + 257) * byteMs - 0.05);
  });

  it("is instant with timing off, but still counts the modelled times", async () => {
    const h = await synced("f407", false);
    const start = performance.now();
    expect(await h.extendedErase([11])).toBe(ACK); // a 128 KiB F4 sector: ~1 s modelled
    expect(performance.now() - start).toBeLessThan(50);
    expect(sim.stats.flashBusyMs).toBeCloseTo(unitEraseMs(sim.device, 128 * 1024), 6);
  });
  it("counts each host answer to a reply as a turnaround, with the real time the host took", async () => {
    const h = await synced();
    const before = { n: sim.stats.hostTurnarounds, ms: sim.stats.hostTurnaroundMs };
    // Turnaround 1 answers the activation ACK; turnaround 2 comes after the host has read the whole
    // Get ID reply and thought for 20 ms.
    expect(await h.command(0x02)).toBe(ACK);
    await h.read(4);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await h.command(0x01)).toBe(ACK);
    await h.read(4);
    expect(sim.stats.hostTurnarounds - before.n).toBe(2);
    expect(sim.stats.hostTurnaroundMs - before.ms).toBeGreaterThanOrEqual(20);
  });

  it("counts no turnaround for bytes sent while a reply is still on the line", async () => {
    const h = await synced();
    const before = sim.stats.hostTurnarounds;
    await h.send(0x01, 0xfe); // answers the activation ACK: one turnaround
    await h.send(0x01, 0xfe); // sent while the first Get's reply is still going out: none
    await h.read(10);
    expect(sim.stats.hostTurnarounds - before).toBe(1);
  });
});
