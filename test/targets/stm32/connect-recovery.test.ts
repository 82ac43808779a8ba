/**
 * First contact that survives what an earlier session left behind (issue 14, host items): a USART
 * bootloader stuck mid-frame, an I2C Get reply longer than its version suggests, and an F1 XL ROM
 * that offers only the legacy Erase.
 */
import { afterEach, describe, expect, it } from "vitest";
import { defaultI2cCommands, type SimulatedModule } from "../../../src/sim/module/index.js";
import type { Bootloader } from "../../../src/targets/stm32/bootloader.js";
import { BootloaderError } from "../../../src/targets/stm32/errors.js";
import { identifyI2c } from "../../../src/targets/stm32/i2c-session.js";
import { captureLogger, connect, pattern, sim } from "./helpers.js";
import { i2cRig, rawI2cLink, type I2cRig } from "./i2c-helpers.js";

let module: SimulatedModule | undefined;
let rig: I2cRig | undefined;
afterEach(async () => {
  await module?.close();
  await rig?.close();
  module = rig = undefined;
});

/** A killed session: activation, a command, and only part of its next frame. */
async function leaveMidFrame(m: SimulatedModule, ...frame: number[]): Promise<void> {
  const port = m.openUsart();
  await port.write(Uint8Array.of(0x7f));
  expect(Array.from(await port.read(1, 500))).toEqual([0x79]);
  await port.write(Uint8Array.from(frame));
  await port.read(1, 500); // the command's ACK
  await port.close();
}

describe("USART connect recovers a bootloader left mid-frame", () => {
  it.each([
    ["the address of a Write Memory", [0x31, 0xce], [0x08, 0x00]],
    ["the address of a Read Memory", [0x11, 0xee], [0x08]],
  ])("resynchronises after a session killed in %s, then identifies the part", async (_, command, partial) => {
    module = sim("g071", { initialFlash: pattern(1024) });
    const port = module.openUsart();
    await port.write(Uint8Array.of(0x7f));
    expect(Array.from(await port.read(1, 500))).toEqual([0x79]);
    await port.write(Uint8Array.from(command));
    expect(Array.from(await port.read(1, 500))).toEqual([0x79]);
    await port.write(Uint8Array.from(partial));
    await port.close();
    const { logger, lines } = captureLogger(["warn"]);
    const bl = await connect(module, { logger });
    expect(bl.pid).toBe(0x460);
    expect(lines.some((l) => l.msg?.includes("middle of a frame"))).toBe(true);
    // the flash is as it was: the recovery burst wrote nothing
    expect(await bl.readMemory(0x08000000, 1024)).toEqual(pattern(1024));
  });

  it("recovers when the killed session stopped inside a Write Memory data block, leaving flash intact", async () => {
    module = sim("f103", { initialFlash: pattern(2048) });
    await leaveMidFrame(module, 0x31, 0xce);
    const port = module.openUsart();
    await port.write(Uint8Array.of(0x08, 0x00, 0x00, 0x00, 0x08));
    expect(Array.from(await port.read(1, 500))).toEqual([0x79]);
    await port.write(Uint8Array.of(0x0f, 1, 2, 3)); // 16 bytes announced, 3 sent
    await port.close();
    const bl = await connect(module);
    expect(bl.pid).toBe(0x410);
    expect(await bl.readMemory(0x08000000, 2048)).toEqual(pattern(2048));
  });

  it("still reports no-answer with its wiring advice when nothing answers at all", async () => {
    module = sim("g071", { boot0: false });
    const error = await connect(module, { recoveryRounds: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as BootloaderError).code).toBe("no-answer");
    expect((error as BootloaderError).message).toMatch(/parity.*resynchronisation bursts/s);
  });
});

describe("I2C Get length from the reply's count byte", () => {
  it("reads the rest of a 19-command Get in a continuation read, without resynchronising", async () => {
    // OpenBootloader's I2C list: the v1.1 set plus the special commands, reported as v1.2 (19 codes).
    const commands = [...defaultI2cCommands(0x11), 0x50, 0x51];
    rig = i2cRig(
      { timing: false },
      { options: { device: "g071", i2cVersion: 0x12, i2cCommands: commands, i2cShortRead: "continue" } },
    );
    const link = rawI2cLink(rig.bus, 0x51, rig.modules[0]);
    const { logger, lines } = captureLogger();
    const identity = await identifyI2c(link, logger);
    expect(identity.commands).toEqual(commands);
    expect(identity.commands).toHaveLength(19);
    expect(lines.some((l) => l.msg?.includes("guessed wrong"))).toBe(false);
    expect(rig.bus.stats.writes).toBe(3); // Get Version, Get, Get ID: no resync frame
    expect(rig.bus.stats.timeouts).toBe(0);
  });
});

describe("erase command from the Get list (F1 XL with only the legacy Erase)", () => {
  it("refuses pages above 255 with a clear error before erasing anything", async () => {
    module = sim("f1-xl", { bootloaderVersion: 0x22, initialFlash: pattern(4096) });
    const bl = await connect(module);
    expect(bl.eraseOpcode).toBe(0x43);
    const error = await bl.erase({ kind: "units", indexes: [0, 300] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as BootloaderError).code).toBe("command-unsupported");
    expect((error as BootloaderError).message).toMatch(/one-byte page numbers stop at 255/);
    expect(await bl.readMemory(0x08000000, 4096)).toEqual(pattern(4096));
  });

  it("erases every page with the global erase when the request covers the whole flash", async () => {
    module = sim("f1-xl", { bootloaderVersion: 0x22, initialFlash: pattern(4096) });
    const bl = await connect(module);
    await bl.erase({ kind: "units", indexes: Array.from({ length: 512 }, (_, i) => i) });
    expect(module.stats.massErases).toBe(1);
    expect((await bl.readMemory(0x08000000, 4096)).every((b) => b === 0xff)).toBe(true);
  });

  it("uses Extended Erase on an F1 XL ROM that lists 0x44 (the Get list decides, not the family)", async () => {
    module = sim("f1-xl", { bootloaderVersion: 0x30 });
    const bl: Bootloader = await connect(module);
    expect(bl.eraseOpcode).toBe(0x44);
    await bl.erase({ kind: "units", indexes: [300] });
    expect(module.stats.unitsErased).toBe(1);
  });
});
