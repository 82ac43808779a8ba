import { afterEach, describe, expect, it } from "vitest";
import type { SimulatedModule } from "../../../src/sim/module/index.js";
import { resolveDevice } from "../../../src/targets/stm32/devices.js";
import type { DeviceInfo } from "../../../src/targets/stm32/device.js";
import { connect, pattern, sim } from "./helpers.js";

const FLASH = 0x08000000;

describe("Bootloader session", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  it("identifies the part with one Get, one Get ID and one small Read Memory", async () => {
    module = sim("f407", { initialFlash: pattern(16) });
    const bl = await connect(module);
    expect(bl.version).toBe(0x31);
    expect(bl.pid).toBe(0x413);
    expect(bl.device.name).toBe(module.device.name);
    expect(bl.rdp).toBe("level0");
    expect(bl.flashHead).toEqual(pattern(16).subarray(0, 8));
    expect(module.stats.commands).toEqual({ "0x00": 1, "0x02": 1, "0x11": 1 });
  });

  it("detects readout protection from the NACKed Read Memory, confirmed once", async () => {
    module = sim("g071", { rdp: 1 });
    const bl = await connect(module);
    expect(bl.rdp).toBe("level1");
    expect(module.stats.commands["0x11"]).toBe(2);
  });

  it("does not take one garbled Read Memory frame for readout protection", async () => {
    module = sim("g071");
    // Corrupt the complement of the RDP probe's command frame: Get (2) + Get ID (2) + activation (1) are before it.
    module.injectFault({ kind: "corrupt", direction: "rx", atByte: 1 + 2 + 2 + 2 });
    const bl = await connect(module);
    expect(bl.rdp).toBe("level0");
    expect(module.stats.nacks).toBe(1);
  });

  it("refuses an unknown product ID, naming it and the way out", async () => {
    const unknown: DeviceInfo = {
      ...resolveDevice("g071"),
      pid: 0x123,
      name: "mystery part",
      aliases: ["mystery"],
    };
    module = sim("g071", { device: unknown });
    const error = await connect(module).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "unknown-device", context: { pid: 0x123 } });
    expect((error as Error).message).toMatch(
      /product ID 0x123, which is not in the device table: name a compatible part with --device/,
    );
  });

  it("accepts an unknown product ID when the caller names the part", async () => {
    const unknown: DeviceInfo = { ...resolveDevice("g071"), pid: 0x123 };
    module = sim("g071", { device: unknown });
    const bl = await connect(module, { device: resolveDevice("g071") });
    expect(bl.pid).toBe(0x123);
    expect(bl.device.pid).toBe(0x460);
  });

  it("fails a command the Get list lacks with command-unsupported before sending anything", async () => {
    module = sim("g071"); // v3.1: no Get Checksum
    const bl = await connect(module);
    const before = module.stats.bytesReceived;
    const error = await bl.getChecksum(FLASH, 4).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "command-unsupported" });
    expect((error as Error).message).toMatch(
      /does not offer Get Checksum \(0xA1\); it lists Get \(0x00\), Get Version \(0x01\)/,
    );
    expect(module.stats.bytesReceived).toBe(before);
  });

  it("picks the erase opcode from the Get list, never from the version byte", async () => {
    // A v3.0-reporting clone that still lists only 0x43 (florisla/stm32loader#102 style oddity).
    module = sim("f103", { bootloaderVersion: 0x30, commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43] });
    const bl = await connect(module);
    expect(bl.eraseOpcode).toBe(0x43);
    module.memory.load(FLASH, pattern(1024));
    await bl.erase({ kind: "units", indexes: [0] });
    expect(module.stats.commands["0x43"]).toBe(1);
  });

  it("refuses a mass erase on L0 and a bank erase on a single-bank part without sending anything", async () => {
    module = sim("l073");
    const bl = await connect(module);
    const before = module.stats.bytesReceived;
    await expect(bl.erase({ kind: "mass" })).rejects.toMatchObject({
      code: "command-unsupported",
      message: /no mass erase/,
    });
    await module.close();
    module = sim("g071");
    const g0 = await connect(module);
    await expect(g0.erase({ kind: "bank", bank: 2 })).rejects.toMatchObject({ code: "command-unsupported" });
    expect(before).toBeGreaterThan(0);
    expect(module.stats.commands["0x44"]).toBeUndefined();
  });

  it("splits a long page list into commands of at most 511 pages on L0", async () => {
    module = sim("l073");
    const bl = await connect(module);
    const batches: number[] = [];
    await bl.erase({ kind: "units", indexes: Array.from({ length: 600 }, (_, i) => i) }, (b) =>
      batches.push(b.length),
    );
    expect(batches).toEqual([511, 89]);
    expect(module.stats.commands["0x44"]).toBe(2);
    expect(module.stats.unitsErased).toBe(600);
  });

  it("reads and writes any length in 256-byte commands", async () => {
    module = sim("g071");
    const bl = await connect(module);
    await bl.writeMemory(FLASH, pattern(1000));
    expect(await bl.readMemory(FLASH, 1000)).toEqual(pattern(1000));
    expect(module.stats.commands["0x31"]).toBe(4);
  });
});
