import { afterEach, describe, expect, it } from "vitest";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost, addressFrame, pattern, withXor } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim?.close());

/** The STM32 CRC computed the slow way: word by word, bit by bit (reference §2.3.14). */
function bitwiseCrc(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i += 4) {
    const word = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    crc = (crc ^ word) >>> 0;
    for (let bit = 0; bit < 32; bit++)
      crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc;
}

const lengthFrame = (length: number): number[] => addressFrame(length);

async function synced(version = 0x33): Promise<RawHost> {
  sim = createSimulatedModule({
    device: "g071",
    timing: false,
    bootloaderVersion: version,
    initialFlash: pattern(0x4000, 9),
  });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

describe("Get Checksum 0xA1 (v3.3)", () => {
  it("answers ACK, ACK, ACK, then ACK with the CRC MSB first and its XOR", async () => {
    const h = await synced();
    expect(await h.command(0xa1)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000100))).toBe(ACK);
    expect(await h.frame(lengthFrame(0x1000))).toBe(ACK);
    const reply = await h.read(6);
    const crc = bitwiseCrc(sim.memory.read(0x08000100, 0x1000));
    const bytes = [crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff];
    expect(reply).toEqual([ACK, ...withXor(...bytes)]);
  });

  it("NACKs an unaligned address, a length that is zero or not a multiple of 4, and a range past the flash", async () => {
    const h = await synced();
    expect(await h.command(0xa1)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000002))).toBe(NACK);
    for (const length of [0, 6, 0x20004]) {
      expect(await h.command(0xa1)).toBe(ACK);
      expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
      expect(await h.frame(lengthFrame(length))).toBe(NACK);
    }
  });

  it("NACKs a length frame with a wrong checksum", async () => {
    const h = await synced();
    expect(await h.command(0xa1)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
    const frame = lengthFrame(0x100);
    frame[4] = frame[4]! ^ 0x10;
    expect(await h.frame(frame)).toBe(NACK);
  });

  it("is refused by a v3.1 bootloader, which does not list it", async () => {
    const h = await synced(0x31);
    expect(await h.command(0xa1)).toBe(NACK);
  });
});
