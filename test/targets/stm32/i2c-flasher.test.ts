/**
 * The Bootloader session and the Flasher, unchanged, over I2C: identification, the choice between
 * No-Stretch and clock-stretching commands, and whole flashes of modules sharing one simulated bus.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Bootloader } from "../../../src/targets/stm32/bootloader.js";
import { Flasher } from "../../../src/targets/stm32/flasher.js";
import { captureLogger, image, pattern } from "./helpers.js";
import { FAST_I2C_LINK, i2cRig, type I2cRig } from "./i2c-helpers.js";

const FLASH = 0x08000000;

describe("Bootloader and Flasher over I2C", () => {
  let rig: I2cRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it("identifies the part and sends the No-Stretch form of every flash command the device lists", async () => {
    rig = i2cRig({ timing: false }, { options: { device: "g071", initialFlash: pattern(64) } });
    const [module] = rig.modules;
    const bl = await Bootloader.connect(rig.bus.openTransport(0x51), { i2cLink: FAST_I2C_LINK });
    expect(bl.pid).toBe(0x460);
    expect(bl.version).toBe(0x12);
    expect(bl.i2c).toEqual({ noStretch: true, clockStretching: false });
    expect(bl.rdp).toBe("level0");
    expect(bl.flashHead).toEqual(pattern(64).subarray(0, 8));
    await bl.erase({ kind: "units", indexes: [0] });
    await bl.writeBlock(FLASH, pattern(256));
    expect(module!.stats.commands).toMatchObject({ "0x45": 1, "0x32": 1 });
    expect(module!.stats.commands["0x31"]).toBeUndefined();
    expect(module!.stats.commands["0x44"]).toBeUndefined();
  });

  it("falls back to the clock-stretching commands on a v1.0 bootloader and says so in the session and the log", async () => {
    rig = i2cRig({ timing: false }, { options: { device: "f072", i2cVersion: 0x10 } });
    const { logger, lines } = captureLogger(["warn"]);
    const bl = await Bootloader.connect(rig.bus.openTransport(0x56), { i2cLink: FAST_I2C_LINK, logger });
    expect(bl.i2c).toEqual({ noStretch: false, clockStretching: true });
    expect(lines.some((l) => l.level === "warn" && l.msg?.includes("hold SCL low"))).toBe(true);
    await bl.erase({ kind: "units", indexes: [2] });
    await bl.writeBlock(FLASH + 2 * 2048, pattern(256));
    expect(rig.modules[0]!.stats.commands).toMatchObject({ "0x44": 1, "0x31": 1 });
  });

  it("flashes and verifies with Get Checksum on v1.2 and by read-back on v1.1", async () => {
    rig = i2cRig(
      { timing: false },
      { options: { device: "g071", i2cVersion: 0x12 }, address: 0x51 },
      { options: { device: "g071", i2cVersion: 0x11 }, address: 0x52 },
    );
    const firmware = image(FLASH, pattern(10_000));
    for (const [address, verifiedBy] of [
      [0x51, "crc"],
      [0x52, "readback"],
    ] as const) {
      const bl = await Bootloader.connect(rig.bus.openTransport(address), { i2cLink: FAST_I2C_LINK });
      const result = await new Flasher(bl).flash(firmware);
      expect(result).toMatchObject({ ok: true, previous: "replaced", stats: { verifiedBy } });
    }
    for (const module of rig.modules) expect(module.memory.read(FLASH, 10_000)).toEqual(pattern(10_000));
  });

  it("flashes two modules on one bus one after the other, each with its own image", async () => {
    rig = i2cRig(
      { timing: false },
      { options: { device: "g071", initialFlash: pattern(4096, 9) } },
      { options: { device: "f072", i2cVersion: 0x11, initialFlash: pattern(4096, 8) } },
    );
    const [g0, f0] = rig.modules;
    const images = [image(FLASH, pattern(6000, 1)), image(FLASH, pattern(3000, 2))];
    const results = [];
    for (const [i, address] of [0x51, 0x56].entries()) {
      const bl = await Bootloader.connect(rig.bus.openTransport(address), { i2cLink: FAST_I2C_LINK });
      results.push(await new Flasher(bl).flash(images[i]!, { go: true }));
    }
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(g0!.memory.read(FLASH, 6000)).toEqual(pattern(6000, 1));
    expect(f0!.memory.read(FLASH, 3000)).toEqual(pattern(3000, 2));
    expect([g0!.state, f0!.state]).toEqual(["application", "application"]);
    expect(rig.bus.stats.timeouts).toBe(0);
  });

  it("retries through an address NACK while writing and a read cut short while verifying, and the flash verifies", async () => {
    rig = i2cRig({ timing: false }, { options: { device: "g071" } });
    const bus = rig.bus;
    const bl = await Bootloader.connect(bus.openTransport(0x51), { i2cLink: FAST_I2C_LINK });
    const flasher = new Flasher(bl);
    const injected = { write: false, verify: false };
    flasher.on("progress", (p) => {
      if (p.phase === "write" && p.done > 0 && !injected.write) {
        injected.write = true;
        bus.injectFault({ kind: "nack-address", address: 0x51, count: 1 });
      }
      if (p.phase === "verify" && !injected.verify) {
        injected.verify = true;
        bus.injectFault({ kind: "short-read", address: 0x51, nth: 4, bytes: 100 }); // the first block's data
      }
    });
    const retries: Array<{ what: string; reason: string }> = [];
    flasher.on("retry", (r) => retries.push(r));
    const result = await flasher.flash(image(FLASH, pattern(4096)), { verify: "readback" });
    expect(result).toMatchObject({ ok: true, stats: { verifiedBy: "readback" } });
    expect(retries).toHaveLength(2);
    expect(retries[0]!.reason).toContain("stopped acknowledging its address");
    expect(retries[1]!.reason).toContain("short read (100 of 256 bytes)");
    expect(rig.modules[0]!.memory.read(FLASH, 4096)).toEqual(pattern(4096));
  });
});
