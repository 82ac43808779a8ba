/** Every command against the simulated ROM, including the NACK conditions of the docs/protocol.md (§2.5). */
import { afterEach, describe, expect, it } from "vitest";
import type { SimulatedModule } from "../../../src/sim/module/index.js";
import { stm32Crc } from "../../../src/util/digest.js";
import { UsartLink, type LinkIo } from "../../../src/targets/stm32/link.js";
import type { BootloaderError } from "../../../src/targets/stm32/errors.js";
import { get, getId, getVersion } from "../../../src/targets/stm32/commands/identify.js";
import { go, readMemory, writeMemory } from "../../../src/targets/stm32/commands/memory.js";
import { erase } from "../../../src/targets/stm32/commands/erase.js";
import { getChecksum } from "../../../src/targets/stm32/commands/checksum.js";
import { FAST_LINK, connect, pattern, sim } from "./helpers.js";

const FLASH = 0x08000000;

/** A synchronised link straight to the commands layer, with no session checks in between. */
async function rawLink(module: SimulatedModule): Promise<UsartLink> {
  const link = new UsartLink(module.openUsart(), FAST_LINK);
  await link.activate();
  link.identify(module.device);
  return link;
}

async function failure<T>(link: UsartLink, fn: (io: LinkIo) => Promise<T>): Promise<BootloaderError> {
  return (await link.exclusive(fn).then(
    () => {
      throw new Error("expected the command to fail");
    },
    (e: unknown) => e,
  )) as BootloaderError;
}

describe("bootloader commands against the simulator", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  describe("identification", () => {
    it("reads the v2.2 command list with legacy Erase 0x43 from an F103", async () => {
      module = sim("f103");
      const link = await rawLink(module);
      expect(await link.exclusive(get)).toEqual({
        version: 0x22,
        commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92],
      });
    });

    it("reads a v3.3 list that offers Get Checksum 0xA1", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const { commands } = await (await rawLink(module)).exclusive(get);
      expect(commands).toContain(0xa1);
      expect(commands).toContain(0x44);
    });

    it("reads Get Version and Get ID", async () => {
      module = sim("f407");
      const link = await rawLink(module);
      expect(await link.exclusive(getVersion)).toEqual({ version: 0x31, option1: 0, option2: 0 });
      expect(await link.exclusive(getId)).toEqual({ pid: 0x413, extra: [] });
    });

    it("gets NACK for an opcode the device does not list", async () => {
      module = sim("g071", { commands: [0x00, 0x02, 0x11] });
      const error = await failure(await rawLink(module), getVersion);
      expect(error.code).toBe("nack");
      expect(error.context).toMatchObject({ command: "Get Version", phase: "command" });
    });
  });

  describe("Read Memory", () => {
    it("reads 1 to 256 bytes from flash", async () => {
      module = sim("g071", { initialFlash: pattern(512) });
      const link = await rawLink(module);
      expect(await link.exclusive((io) => readMemory(io, FLASH, 256))).toEqual(pattern(512).subarray(0, 256));
      expect(await link.exclusive((io) => readMemory(io, FLASH + 300, 1))).toEqual(
        pattern(512).subarray(300, 301),
      );
    });

    it("refuses lengths outside 1..256 before sending anything", async () => {
      module = sim("g071");
      const link = await rawLink(module);
      const before = module.stats.bytesReceived;
      expect((await failure(link, (io) => readMemory(io, FLASH, 257))).code).toBe("invalid-argument");
      expect((await failure(link, (io) => readMemory(io, FLASH, 0))).code).toBe("invalid-argument");
      expect(module.stats.bytesReceived).toBe(before);
    });

    it("gets NACK at the address phase for an address in no memory area", async () => {
      module = sim("g071");
      const error = await failure(await rawLink(module), (io) => readMemory(io, 0x30000000, 4));
      expect(error).toMatchObject({
        code: "nack",
        context: { command: "Read Memory", phase: "address", address: 0x30000000 },
      });
      expect(error.message).toMatch(/Read Memory at 0x30000000 \(address\): device answered NACK/);
    });

    it("gets NACK at the count phase for a read running past the end of flash", async () => {
      module = sim("g071");
      const end = module.device.flash.end;
      const error = await failure(await rawLink(module), (io) => readMemory(io, end - 4, 8));
      expect(error.context).toMatchObject({ phase: "count" });
    });

    it("reports NACK right after the command frame as readout protection", async () => {
      module = sim("g071", { rdp: 1 });
      const error = await failure(await rawLink(module), (io) => readMemory(io, FLASH, 4));
      expect(error.code).toBe("readout-protected");
      expect(error.message).toMatch(/RDP level 1/);
    });

    it("gets NACK for an address frame with a wrong checksum", async () => {
      module = sim("g071");
      const link = await rawLink(module);
      module.injectFault({ kind: "corrupt", direction: "rx", atByte: 3 }); // inside the address frame
      const error = await failure(link, (io) => readMemory(io, FLASH, 4));
      expect(error.context).toMatchObject({ phase: "address" });
      await expect(link.exclusive((io) => readMemory(io, FLASH, 4))).resolves.toHaveLength(4);
    });
  });

  it("gets NACK at the count phase when the count's complement is wrong", async () => {
    module = sim("g071");
    const link = await rawLink(module);
    module.injectFault({ kind: "corrupt", direction: "rx", atByte: 2 + 5 + 2 }); // the complement of N
    const error = await failure(link, (io) => readMemory(io, FLASH, 4));
    expect(error.context).toMatchObject({ command: "Read Memory", phase: "count" });
  });

  describe("Write Memory", () => {
    it("programs a block into erased flash", async () => {
      module = sim("g071");
      const link = await rawLink(module);
      await link.exclusive((io) => writeMemory(io, FLASH + 0x100, pattern(256)));
      expect(module.memory.read(FLASH + 0x100, 256)).toEqual(pattern(256));
    });

    it("gets NACK after the data when the flash there is not erased", async () => {
      module = sim("g071", { initialFlash: pattern(256, 2) });
      const error = await failure(await rawLink(module), (io) => writeMemory(io, FLASH, pattern(256)));
      expect(error.context).toMatchObject({ command: "Write Memory", phase: "data", address: FLASH });
    });

    it("gets NACK at the address phase past the end of flash and for an unaligned flash address", async () => {
      module = sim("g071");
      const link = await rawLink(module);
      expect(
        (await failure(link, (io) => writeMemory(io, module!.device.flash.end, pattern(4)))).context,
      ).toMatchObject({ phase: "address" });
      expect((await failure(link, (io) => writeMemory(io, FLASH + 2, pattern(4)))).context).toMatchObject({
        phase: "address",
      });
    });

    it("gets NACK on the command frame under readout protection", async () => {
      module = sim("g071", { rdp: 1 });
      const error = await failure(await rawLink(module), (io) => writeMemory(io, FLASH, pattern(4)));
      expect(error.context).toMatchObject({ phase: "command" });
    });

    it("gets NACK when the data checksum is wrong, and nothing is programmed", async () => {
      module = sim("g071");
      const link = await rawLink(module);
      module.injectFault({ kind: "corrupt", direction: "rx", atByte: 7 + 10 });
      const error = await failure(link, (io) => writeMemory(io, FLASH, pattern(64)));
      expect(error.context).toMatchObject({ phase: "data" });
      expect(module.memory.read(FLASH, 64).every((b) => b === 0xff)).toBe(true);
    });
  });

  describe("Go", () => {
    it("starts the application at a flash address", async () => {
      module = sim("g071");
      await (await rawLink(module)).exclusive((io) => go(io, FLASH));
      expect(module.state).toBe("application");
    });

    it("gets NACK for a target that is not executable", async () => {
      module = sim("g071");
      const error = await failure(await rawLink(module), (io) => go(io, 0x30000000));
      expect(error.context).toMatchObject({ command: "Go", phase: "address" });
    });
  });

  describe("erase", () => {
    it("erases F103 pages with the legacy 0x43 and the whole flash with FF 00", async () => {
      module = sim("f103", { initialFlash: pattern(4096) });
      const link = await rawLink(module);
      await link.exclusive((io) => erase(io, 0x43, { kind: "units", indexes: [1, 3] }));
      expect(module.memory.read(FLASH + 1024, 1024).every((b) => b === 0xff)).toBe(true);
      expect(module.memory.read(FLASH, 1024)).toEqual(pattern(4096).subarray(0, 1024));
      expect(module.memory.read(FLASH + 2048, 1024)).toEqual(pattern(4096).subarray(2048, 3072));
      await link.exclusive((io) => erase(io, 0x43, { kind: "mass" }));
      expect(module.memory.read(FLASH, 4096).every((b) => b === 0xff)).toBe(true);
      expect(module.stats.massErases).toBe(1);
    });

    it("erases G071 pages and the whole flash with Extended Erase", async () => {
      module = sim("g071", { initialFlash: pattern(8192) });
      const link = await rawLink(module);
      await link.exclusive((io) => erase(io, 0x44, { kind: "units", indexes: [2] }));
      expect(module.memory.read(FLASH + 4096, 2048).every((b) => b === 0xff)).toBe(true);
      expect(module.memory.read(FLASH, 2048)).toEqual(pattern(8192).subarray(0, 2048));
      await link.exclusive((io) => erase(io, 0x44, { kind: "mass" }));
      expect(module.memory.read(FLASH, 8192).every((b) => b === 0xff)).toBe(true);
    });

    it("erases one bank of a dual-bank H743 with FFFD", async () => {
      module = sim("h743");
      const half = (module.device.flash.end - FLASH) / 2;
      module.memory.load(FLASH, pattern(64));
      module.memory.load(FLASH + half, pattern(64));
      await (await rawLink(module)).exclusive((io) => erase(io, 0x44, { kind: "bank", bank: 2 }));
      expect(module.memory.read(FLASH, 64)).toEqual(pattern(64));
      expect(module.memory.read(FLASH + half, 64).every((b) => b === 0xff)).toBe(true);
    });

    it("gets NACK for a bank erase on a single-bank part and for a mass erase on L0", async () => {
      module = sim("g071");
      expect(
        (await failure(await rawLink(module), (io) => erase(io, 0x44, { kind: "bank", bank: 1 }))).code,
      ).toBe("nack");
      await module.close();
      module = sim("l073");
      expect(
        (await failure(await rawLink(module), (io) => erase(io, 0x44, { kind: "mass" }))).context,
      ).toMatchObject({ phase: "mass erase" });
    });

    it("gets NACK for a page list with a wrong checksum and for a reserved special code", async () => {
      module = sim("g071", { initialFlash: pattern(2048) });
      const link = await rawLink(module);
      module.injectFault({ kind: "corrupt", direction: "rx", atByte: 2 + 3 }); // a page number byte
      expect(
        (await failure(link, (io) => erase(io, 0x44, { kind: "units", indexes: [0] }))).context,
      ).toMatchObject({ phase: "1 unit(s)" });
      expect(module.memory.read(FLASH, 2048)).toEqual(pattern(2048));
      // 0xFFF0..0xFFFC are reserved (§2.3.8): sent by hand, the encoder never produces them.
      const reserved = await failure(link, async (io) => {
        await io.command(0x44, { command: "Extended Erase", phase: "command" });
        await io.sendForAck(
          Uint8Array.of(0xff, 0xf0, 0x0f),
          { command: "Extended Erase", phase: "special 0xFFF0" },
          io.timeout(4),
        );
      });
      expect(reserved.code).toBe("nack");
    });

    it("gets NACK for a page that does not exist", async () => {
      module = sim("g071");
      const pages = (module.device.flash.end - FLASH) / 2048;
      expect(
        (await failure(await rawLink(module), (io) => erase(io, 0x44, { kind: "units", indexes: [pages] })))
          .code,
      ).toBe("nack");
    });

    it("gets NACK for an erase under readout protection", async () => {
      module = sim("g071", { rdp: 1 });
      expect(
        (await failure(await rawLink(module), (io) => erase(io, 0x44, { kind: "units", indexes: [0] })))
          .context,
      ).toMatchObject({
        phase: "command",
      });
    });
  });

  describe("protection (commands that reset the device)", () => {
    it("write-protects sectors, re-activates after the reset, and unprotects them", async () => {
      module = sim("f103");
      const bl = await connect(module);
      await bl.writeProtect([0, 2]);
      expect(module.wrp).toEqual([0, 2]);
      expect(module.stats.resets).toBe(2); // power-up + the option reload
      // A page in a protected sector refuses to erase; the session is usable after the reset.
      await expect(bl.erase({ kind: "units", indexes: [0] })).rejects.toMatchObject({ code: "nack" });
      await bl.writeUnprotect();
      expect(module.wrp).toEqual([]);
      await bl.erase({ kind: "units", indexes: [0] });
    });

    it("sets readout protection, after which the session refuses memory commands without sending them", async () => {
      module = sim("g071");
      const bl = await connect(module);
      await bl.readoutProtect();
      expect(module.rdp).toBe(1);
      expect(bl.rdp).toBe("level1");
      const before = module.stats.bytesReceived;
      await expect(bl.readMemory(FLASH, 4)).rejects.toMatchObject({ code: "readout-protected" });
      expect(module.stats.bytesReceived).toBe(before);
    });

    it("lifts readout protection: the flash is mass-erased, RDP is 0 and the session goes on", async () => {
      module = sim("g071", { rdp: 1, initialFlash: pattern(4096) });
      const bl = await connect(module);
      expect(bl.rdp).toBe("level1");
      await bl.readoutUnprotect();
      expect(module.rdp).toBe(0);
      expect(bl.rdp).toBe("level0");
      expect(await bl.readMemory(FLASH, 4096)).toEqual(new Uint8Array(4096).fill(0xff));
    });

    it("re-activates after a Write Memory into the option bytes, which resets the device", async () => {
      module = sim("f103");
      const bl = await connect(module);
      const ob = module.device.optionBytes!;
      const current = await bl.readMemory(ob.start, ob.end - ob.start);
      const resets = module.stats.resets;
      await bl.writeBlock(ob.start, current);
      expect(module.stats.resets).toBe(resets + 1);
      await expect(bl.getVersion()).resolves.toMatchObject({ version: 0x22 });
    });
  });

  describe("Get Checksum", () => {
    it("returns the STM32 CRC of a flash range", async () => {
      module = sim("g071", { bootloaderVersion: 0x33, initialFlash: pattern(1000) });
      const link = await rawLink(module);
      const crc = await link.exclusive((io) => getChecksum(io, FLASH, 1000));
      expect(crc).toBe(stm32Crc(pattern(1000)));
    });

    it("refuses unaligned ranges before sending anything and gets NACK past the end of flash", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const link = await rawLink(module);
      expect((await failure(link, (io) => getChecksum(io, FLASH + 2, 8))).code).toBe("invalid-argument");
      expect((await failure(link, (io) => getChecksum(io, FLASH, 6))).code).toBe("invalid-argument");
      expect(
        (await failure(link, (io) => getChecksum(io, module!.device.flash.end - 4, 8))).context,
      ).toMatchObject({ phase: "length" });
    });
  });
});
