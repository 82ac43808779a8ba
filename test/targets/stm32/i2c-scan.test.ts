/** Finding bootloaders on an I2C bus: read-only probes, then Get Version / Get ID where something answered. */
import { afterEach, describe, expect, it } from "vitest";
import {
  createSimI2cBus,
  createSimulatedModule,
  type SimI2cBus,
  type SimI2cEndpoint,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { scanI2cBus } from "../../../src/targets/stm32/i2c-scan.js";

/** A 24Cxx-style EEPROM: the first written byte sets the pointer, the rest are stored; reads return from the pointer. */
function eeprom(): SimI2cEndpoint & { bytes: Uint8Array; writes: number } {
  const bytes = new Uint8Array(256).fill(0x42);
  let pointer = 0;
  return {
    version: 0,
    bytes,
    writes: 0,
    acknowledges: () => true,
    write(data) {
      this.writes++;
      if (data.length === 0) return;
      pointer = data[0]!;
      for (const b of data.subarray(1)) bytes[pointer++ & 0xff] = b;
    },
    read(length, t) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = bytes[pointer++ & 0xff]!;
      return { kind: "data", bytes: out, dataStart: t, busy: false };
    },
  };
}

describe("I2C bus scan", () => {
  let bus: SimI2cBus | undefined;
  const modules: SimulatedModule[] = [];
  afterEach(async () => {
    bus?.close();
    bus = undefined;
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });

  function module(device: string, options: Record<string, unknown> = {}): SimulatedModule {
    const m = createSimulatedModule({ device, timing: false, ...options });
    modules.push(m);
    return m;
  }

  it("lists every bootloader on the bus with its protocol version and product ID", async () => {
    bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 20 });
    bus.attach(module("g071"));
    bus.attach(module("f072", { i2cVersion: 0x11 }));
    const probed: number[] = [];
    const found = await scanI2cBus(bus, { onAddress: (address) => probed.push(address) });
    expect(probed).toHaveLength(0x77 - 0x03 + 1);
    expect(probed[0]).toBe(0x03);
    expect(found).toEqual([
      {
        address: 0x51,
        addressName: "0x51",
        bootloader: true,
        version: 0x12,
        versionName: "1.2",
        pid: 0x460,
        device: expect.stringContaining("G07"),
      },
      {
        address: 0x56,
        addressName: "0x56",
        bootloader: true,
        version: 0x11,
        versionName: "1.1",
        pid: 0x448,
        device: expect.stringContaining("F07"),
      },
    ]);
  });

  it("finds a v1.0 bootloader even though it stretches the clock on the probe read", async () => {
    bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 20 });
    bus.attach(module("f072", { i2cVersion: 0x10 }));
    const found = await scanI2cBus(bus, { from: 0x50, to: 0x5f });
    expect(found).toEqual([
      expect.objectContaining({ address: 0x56, bootloader: true, versionName: "1.0", pid: 0x448 }),
    ]);
  });

  it("reports a device that acknowledges but does not answer like a bootloader", async () => {
    bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 20 });
    const rom = eeprom();
    bus.attach(rom, 0x50);
    const found = await scanI2cBus(bus, {
      from: 0x50,
      to: 0x50,
      link: { timeouts: { latencyMs: 20 }, resyncRounds: 1 },
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ address: 0x50, bootloader: false });
    expect(found[0]!.error).toContain("instead of ACK/NACK/BUSY");
    // The caution in the scan's documentation: identification wrote 01 FE to the EEPROM.
    expect(rom.bytes[0x01]).toBe(0xfe);
  });

  it("returns nothing for an empty range, touching only the probe reads", async () => {
    bus = createSimI2cBus({ timing: false });
    bus.attach(module("g071"));
    expect(await scanI2cBus(bus, { from: 0x03, to: 0x50 })).toEqual([]);
    expect(bus.stats.writes).toBe(0);
    expect(bus.stats.nacks).toBe(0x50 - 0x03 + 1);
  });
});
