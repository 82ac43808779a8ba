/**
 * Every I2C bootloader command (AN4221), in its clock-stretching and No-Stretch forms, against the
 * simulator on an in-process I2C bus, through the I2C link (docs/protocol.md §3).
 */
import { afterEach, describe, expect, it } from "vitest";
import { stm32Crc } from "../../../src/util/digest.js";
import { defaultI2cCommands, type SimI2cBusOptions, type SimOptions } from "../../../src/sim/module/index.js";
import { getChecksum } from "../../../src/targets/stm32/commands/checksum.js";
import { go, readMemory } from "../../../src/targets/stm32/commands/memory.js";
import {
  i2cErase,
  i2cGetVersion,
  i2cOptionCommand,
  i2cWriteMemory,
  i2cWriteProtect,
} from "../../../src/targets/stm32/i2c-commands.js";
import { identifyI2c } from "../../../src/targets/stm32/i2c-session.js";
import { captureLogger, pattern } from "./helpers.js";
import { failure, i2cRig, rawI2cLink, type I2cRig } from "./i2c-helpers.js";

const FLASH = 0x08000000;
const G071 = 0x51;

describe("I2C bootloader commands against the simulator", () => {
  let rig: I2cRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  function g071(options: Partial<SimOptions> = {}, bus: SimI2cBusOptions = { timing: false }) {
    rig = i2cRig(bus, { options: { ...options, device: "g071" } });
    const module = rig.modules[0]!;
    return { module, link: rawI2cLink(rig.bus, G071, module), bus: rig.bus };
  }

  describe("identification", () => {
    it.each([
      ["v1.0", 0x10, 11, false],
      ["v1.1", 0x11, 17, true],
      ["v1.2", 0x12, 18, true],
    ])(
      "identifies an I2C %s bootloader and its %i-command Get list",
      async (_name, version, count, noStretch) => {
        const { link, bus } = g071({ i2cVersion: version });
        const identity = await identifyI2c(link);
        expect(identity).toEqual({
          version,
          commands: defaultI2cCommands(version),
          pid: 0x460,
          completion: { noStretch, clockStretching: !noStretch },
        });
        expect(identity.commands).toHaveLength(count);
        // Get Version, Get and Get ID: 3 writes, no resynchronisation, no stalled read.
        expect(bus.stats.writes).toBe(3);
        expect(bus.stats.timeouts).toBe(0);
      },
    );

    it("re-reads a Get reply longer than its version suggests, after resynchronising (OpenBootloader's 19 commands at v1.2)", async () => {
      const commands = [...defaultI2cCommands(0x12), 0x50, 0x51];
      const { link, bus } = g071({ i2cVersion: 0x12, i2cCommands: commands });
      const { logger, lines } = captureLogger();
      const identity = await identifyI2c(link, logger);
      expect(identity.commands).toEqual(commands);
      expect(lines.some((l) => l.msg?.includes("reply length guessed wrong"))).toBe(true);
      expect(bus.stats.timeouts).toBe(0); // the guess was short: no read ever ran past the reply
    });

    it("reads Get Version as a single byte between two ACKs", async () => {
      const { bus } = g071({ i2cVersion: 0x11 });
      const transport = bus.openTransport(G071);
      await transport.writeTransaction(Uint8Array.of(0x01, 0xfe));
      expect(await transport.readTransaction(1)).toEqual(Uint8Array.of(0x79));
      expect(await transport.readTransaction(1)).toEqual(Uint8Array.of(0x11));
      expect(await transport.readTransaction(1)).toEqual(Uint8Array.of(0x79));
    });

    it("warns that a v1.0 bootloader stretches the clock during flash work", async () => {
      const { link } = g071({ i2cVersion: 0x10 });
      const { logger, lines } = captureLogger(["warn"]);
      await identifyI2c(link, logger);
      const warning = lines.find((l) => l.level === "warn");
      expect(warning?.msg).toContain("no No-Stretch commands");
      expect(warning?.obj.commands).toEqual(
        expect.arrayContaining(["Write Memory (0x31)", "Extended Erase (0x44)"]),
      );
    });
  });

  describe("Read Memory, Go and Get Checksum (frames as on USART, one transaction each)", () => {
    it("reads 256 bytes of flash in one read transaction", async () => {
      const { link, bus } = g071({ initialFlash: pattern(1024) });
      expect(await link.exclusive((io) => readMemory(io, FLASH + 256, 256))).toEqual(
        pattern(1024).subarray(256, 512),
      );
      expect(bus.stats.reads).toBe(4); // ACK, ACK, ACK, data
    });

    it("computes the STM32 CRC of a range with Get Checksum 0xA1 (v1.2)", async () => {
      const { link } = g071({ initialFlash: pattern(4096) });
      expect(await link.exclusive((io) => getChecksum(io, FLASH, 4096))).toBe(stm32Crc(pattern(4096)));
    });

    it("starts the application with Go after the final ACK was read", async () => {
      const { link, module } = g071({ initialFlash: pattern(256) });
      await link.exclusive((io) => go(io, FLASH));
      expect(module.state).toBe("application");
    });
  });

  describe("Write Memory", () => {
    it.each([
      ["0x31", 0x31],
      ["No-Stretch 0x32", 0x32],
    ])("programs a 256-byte block with %s", async (_name, opcode) => {
      const { link, module } = g071();
      await link.exclusive((io) => i2cWriteMemory(io, opcode, FLASH + 0x100, pattern(256)));
      expect(module.memory.read(FLASH + 0x100, 256)).toEqual(pattern(256));
      expect(module.stats.commands[`0x${opcode.toString(16)}`]).toBe(1);
    });

    it.each([
      ["0x31", 0x31],
      ["No-Stretch 0x32", 0x32],
    ])("gets NACK from %s over non-erased flash", async (_name, opcode) => {
      const { link } = g071({ initialFlash: pattern(256) });
      const error = await failure(link, (io) => i2cWriteMemory(io, opcode, FLASH, pattern(256, 2)));
      expect(error.code).toBe("nack");
      expect(error.context).toMatchObject({ phase: "data", address: FLASH });
    });
  });

  describe("Extended Erase", () => {
    it.each([
      ["0x44", 0x44],
      ["No-Stretch 0x45", 0x45],
    ])("erases a page list with %s: the count and the pages are separate frames", async (_name, opcode) => {
      const { link, module } = g071({ initialFlash: pattern(4 * 2048) });
      await link.exclusive((io) => i2cErase(io, opcode, { kind: "units", indexes: [1, 2] }));
      expect(module.memory.read(FLASH + 2048, 4096).every((b) => b === 0xff)).toBe(true);
      expect(module.memory.read(FLASH, 2048)).toEqual(pattern(4 * 2048).subarray(0, 2048));
      expect(module.memory.read(FLASH + 3 * 2048, 2048)).toEqual(pattern(4 * 2048).subarray(3 * 2048));
    });

    it("refuses the USART layout (count and pages in one frame) with NACK", async () => {
      const { bus, module } = g071({ initialFlash: pattern(2048) });
      const transport = bus.openTransport(G071);
      await transport.writeTransaction(Uint8Array.of(0x44, 0xbb));
      expect(await transport.readTransaction(1)).toEqual(Uint8Array.of(0x79));
      // USART layout for pages 0 and 1: `00 01 | 00 00 00 01 | 00` with one XOR over everything. On I2C
      // the first three bytes are the count frame, whose XOR byte (00) does not match 00 ^ 01.
      await transport.writeTransaction(Uint8Array.of(0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00));
      expect(await transport.readTransaction(1)).toEqual(Uint8Array.of(0x1f));
      expect(module.memory.read(FLASH, 2048)).toEqual(pattern(2048));
    });

    it.each([
      ["0x44", 0x44],
      ["No-Stretch 0x45", 0x45],
    ])("mass-erases with the special code FFFF in one frame (%s)", async (_name, opcode) => {
      const { link, module } = g071({ initialFlash: pattern(8192) });
      await link.exclusive((io) => i2cErase(io, opcode, { kind: "mass" }));
      expect(module.memory.read(FLASH, 8192).every((b) => b === 0xff)).toBe(true);
      expect(module.stats.massErases).toBe(1);
    });

    it("erases one bank of a dual-bank part with FFFE", async () => {
      rig = i2cRig(
        { timing: false },
        { options: { device: "g0b1", initialFlash: pattern(1024) }, address: 0x52 },
      );
      const module = rig.modules[0]!;
      const link = rawI2cLink(rig.bus, 0x52, module);
      const half = (module.device.flash.end - module.device.flash.start) / 2;
      module.memory.load(FLASH + half, pattern(1024, 3));
      await link.exclusive((io) => i2cErase(io, 0x45, { kind: "bank", bank: 1 }));
      expect(module.memory.read(FLASH, 1024).every((b) => b === 0xff)).toBe(true);
      expect(module.memory.read(FLASH + half, 1024)).toEqual(pattern(1024, 3));
    });
  });

  describe("protection (the device resets after each; the link waits for it to answer again)", () => {
    it.each([
      ["0x63", 0x63],
      ["No-Stretch 0x64", 0x64],
    ])("write-protects sectors with %s in two phases, N ~N then the sectors", async (_name, opcode) => {
      const { link, module } = g071();
      await link.exclusive((io) => i2cWriteProtect(io, opcode, [0, 2]));
      expect(module.wrp).toEqual([0, 2]);
      expect(module.stats.resets).toBe(2); // power-up and the option-byte reload
      expect(await link.exclusive(i2cGetVersion)).toBe(0x12);
    });

    it.each([
      ["0x73", 0x73],
      ["No-Stretch 0x74", 0x74],
    ])("removes write protection with %s", async (_name, opcode) => {
      const { link, module } = g071({ wrp: [1, 3] });
      await link.exclusive((io) => i2cOptionCommand(io, opcode));
      expect(module.wrp).toEqual([]);
      expect(await link.exclusive(i2cGetVersion)).toBe(0x12);
    });

    it.each([
      ["0x82", 0x82],
      ["No-Stretch 0x83", 0x83],
    ])("sets readout protection with %s; memory commands are refused afterwards", async (_name, opcode) => {
      const { link, module } = g071({ initialFlash: pattern(256) });
      await link.exclusive((io) => i2cOptionCommand(io, opcode));
      expect(module.rdp).toBe(1);
      const error = await failure(link, (io) => readMemory(io, FLASH, 16));
      expect(error.code).toBe("readout-protected");
    });

    it.each([
      ["0x92", 0x92],
      ["No-Stretch 0x93", 0x93],
    ])("lifts readout protection with %s, which mass-erases the flash", async (_name, opcode) => {
      const { link, module } = g071({ initialFlash: pattern(4096), rdp: 1 });
      await link.exclusive((io) => i2cOptionCommand(io, opcode));
      expect(module.rdp).toBe(0);
      expect(module.memory.read(FLASH, 4096).every((b) => b === 0xff)).toBe(true);
      expect(await link.exclusive((io) => readMemory(io, FLASH, 16))).toEqual(new Uint8Array(16).fill(0xff));
    });
  });

  describe("BUSY polling of the No-Stretch commands (timing on)", () => {
    it("polls BUSY (0x76) until programming ends, then reads ACK", async () => {
      const { link, module, bus } = g071({ timing: true }, { timing: true });
      module.injectFault({ kind: "busy", nth: 1, ms: 40 });
      const started = performance.now();
      await link.exclusive((io) => i2cWriteMemory(io, 0x32, FLASH, pattern(256)));
      expect(performance.now() - started).toBeGreaterThanOrEqual(40);
      expect(link.busyPolls).toBeGreaterThan(0);
      expect(bus.stats.busyPolls).toBe(link.busyPolls);
      expect(bus.stats.stretchMs).toBe(0);
      expect(module.memory.read(FLASH, 256)).toEqual(pattern(256));
    });

    it("ends BUSY polling with NACK when programming fails", async () => {
      const { link, module } = g071({ timing: true, initialFlash: pattern(256) }, { timing: true });
      module.injectFault({ kind: "busy", nth: 1, ms: 20 });
      const error = await failure(link, (io) => i2cWriteMemory(io, 0x32, FLASH, pattern(256, 5)));
      expect(error.code).toBe("nack");
      expect(error.context).toMatchObject({ command: "No-Stretch Write Memory (0x32)", phase: "data" });
      expect(link.busyPolls).toBeGreaterThan(0);
    });

    it("gives up a BUSY that outlasts the device's worst case with a timeout that says so", async () => {
      const { module, bus } = g071({ timing: true }, { timing: true });
      // G071 worst case for 256 bytes: 32 double-words × 125 µs, ×2 margin ≈ 8 ms, plus 20 ms latency.
      const link = rawI2cLink(bus, G071, module, { timeouts: { latencyMs: 20 } });
      module.injectFault({ kind: "busy", nth: 1, ms: 400 });
      const started = performance.now();
      const error = await failure(link, (io) => i2cWriteMemory(io, 0x32, FLASH, pattern(256)));
      expect(performance.now() - started).toBeLessThan(300);
      expect(error.code).toBe("timeout");
      expect(error.context).toMatchObject({ reason: "busy timeout", phase: "data", address: FLASH });
      expect(error.message).toMatch(/still BUSY \(0x76\) after \d+ ms and \d+ polls/);
      expect(error.message).toContain("sim-i2c@0x51: No-Stretch Write Memory (0x32) at 0x08000000 (data)");
    });
  });

  describe("clock stretching of the plain commands (timing on)", () => {
    it("holds the final ACK read of a plain erase until the erase is done, without BUSY", async () => {
      const { link, bus } = g071({ timing: true, initialFlash: pattern(2048) }, { timing: true });
      await link.exclusive((io) => i2cErase(io, 0x44, { kind: "units", indexes: [0] }));
      expect(bus.stats.stretchMs).toBeGreaterThanOrEqual(20); // one 2 KiB page: 22 ms typical
      expect(bus.stats.busyPolls).toBe(0);
    });

    it("fails a plain erase on an adapter that tolerates 2 ms of stretching, and names the cause", async () => {
      const { link } = g071({ timing: true, initialFlash: pattern(2048) }, { timing: true, maxStretchMs: 2 });
      const error = await failure(link, (io) => i2cErase(io, 0x44, { kind: "units", indexes: [0] }));
      expect(error.code).toBe("timeout");
      expect(error.message).toContain("clock stretching");
      expect(error.message).toContain("No-Stretch commands");
    });
  });
});
