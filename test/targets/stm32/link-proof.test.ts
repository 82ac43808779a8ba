/** The link is proven before the first erase: a garbled (wrong-baud) session leaves the module untouched. */
import { afterEach, describe, expect, it } from "vitest";
import type { SimulatedModule } from "../../../src/sim/module/index.js";
import { flashImage } from "../../../src/targets/stm32/flasher.js";
import { findDevice } from "../../../src/targets/stm32/devices.js";
import { connect, image, pattern, sim } from "./helpers.js";

const FLASH = 0x08000000;
const KiB = 1024;

describe("link proof before any erase", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  function expectUntouched(m: SimulatedModule, before: Uint8Array): void {
    expect(m.memory.read(FLASH, before.length)).toEqual(before);
    expect(m.stats.commands["0x44"]).toBeUndefined();
    expect(m.stats.commands["0x43"]).toBeUndefined();
    expect(m.stats.commands["0x31"]).toBeUndefined();
  }

  it("refuses a session whose Get list came back garbled (a wrong-baud session) with the module untouched", async () => {
    const old = pattern(8 * KiB, 5);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    // Device → host bytes after injection: activation ACK, then Get: ACK, N, version, opcodes…
    // Flipping the top bit of an opcode turns 0x31 (Write Memory) into 0xB1, which no part lists.
    module.injectFault({ kind: "corrupt", direction: "tx", atByte: 1 + 3 + 1 + 5, mask: 0x80 });
    const bl = await connect(module);
    const result = await flashImage(bl, image(FLASH, pattern(8 * KiB, 6)));
    expect(result).toMatchObject({ ok: false, previous: "untouched", error: { code: "link-unproven" } });
    expectUntouched(module, old);
  });

  it("refuses when Get ID answers differently the second time, before any erase", async () => {
    const old = pattern(8 * KiB, 5);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    // The proof's Get reply: ACK, N, version, N+1 opcodes… then Get ID: ACK, N=1, PID high, PID low.
    const getReply = 3 + bl.commands.length + 1;
    module.injectFault({ kind: "corrupt", direction: "tx", atByte: getReply + 4, mask: 0x04 });
    const result = await flashImage(bl, image(FLASH, pattern(8 * KiB, 6)));
    expect(result).toMatchObject({ ok: false, previous: "untouched", error: { code: "link-unproven" } });
    expect(!result.ok && result.error.message).toMatch(/Get ID answered/);
    expectUntouched(module, old);
  });

  it("refuses a part whose product ID names another device than the configured one", async () => {
    const old = pattern(4 * KiB, 5);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module, { device: findDevice(0x410)! }); // configured as an F103
    const result = await flashImage(bl, image(FLASH, pattern(4 * KiB, 6)));
    expect(result).toMatchObject({ ok: false, previous: "untouched", error: { code: "link-unproven" } });
    expectUntouched(module, old);
  });

  it("refuses when two reads of the flash head disagree", async () => {
    const old = pattern(4 * KiB, 5);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const getReply = 3 + bl.commands.length + 1;
    const getIdReply = 5;
    // Read Memory: ACK (command), ACK (address), ACK (length), then the data; corrupt its first byte.
    module.injectFault({ kind: "corrupt", direction: "tx", atByte: getReply + getIdReply + 4, mask: 0x10 });
    const result = await flashImage(bl, image(FLASH, pattern(4 * KiB, 6)));
    expect(result).toMatchObject({ ok: false, previous: "untouched", error: { code: "link-unproven" } });
    expectUntouched(module, old);
  });

  it("passes on a sound session and then flashes", async () => {
    module = sim("g071", { bootloaderVersion: 0x33 });
    const bl = await connect(module);
    const result = await flashImage(bl, image(FLASH, pattern(4 * KiB, 6)));
    expect(result.ok).toBe(true);
  });
});
