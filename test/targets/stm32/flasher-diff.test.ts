/** Differential and resumable flashing against the simulated module: what is skipped, on what evidence. */
import { afterEach, describe, expect, it } from "vitest";
import type { SimFault, SimulatedModule } from "../../../src/sim/module/index.js";
import { flashImage } from "../../../src/targets/stm32/flasher.js";
import type { FlashOptions, FlashResult } from "../../../src/targets/stm32/flash-types.js";
import type { Bootloader } from "../../../src/targets/stm32/bootloader.js";
import type { FirmwareImage } from "../../../src/targets/image/image.js";
import { stm32Crc } from "../../../src/signing/index.js";
import { connect, image, pattern, sim } from "./helpers.js";

const FLASH = 0x08000000;
const KiB = 1024;
/** G071: 2 KiB pages; bootloader v3.3 lists Get Checksum (0xA1). */
const PAGE = 2 * KiB;

function expectHolds(module: SimulatedModule, img: FirmwareImage): void {
  for (const s of img.segments) expect(module.memory.read(s.address, s.data.length)).toEqual(s.data);
}

function flash(bl: Bootloader, img: FirmwareImage, options: FlashOptions = {}): Promise<FlashResult> {
  return flashImage(bl, img, options);
}

/** Injects `fault` when the `nth` Write Memory (1-based) is about to start. */
function beforeWrite(module: SimulatedModule, nth: number, fault: SimFault): void {
  let done = 0;
  if (nth === 1) module.injectFault(fault);
  module.on("command", ({ opcode }) => {
    if (opcode === 0x31 && ++done === nth - 1) module.injectFault(fault);
  });
}

describe("differential flashing", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  it("skips every unit of an identical re-flash on Get Checksum evidence and erases nothing", async () => {
    const data = pattern(16 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: data });
    const bl = await connect(module);
    const result = await flash(bl, image(FLASH, data));
    expect(result).toMatchObject({
      ok: true,
      previous: "replaced",
      stats: { verifiedBy: "crc", blocksWritten: 0 },
    });
    expect(result.stats.units).toMatchObject({
      covered: 8,
      checked: 8,
      skipped: 8,
      skippedBy: { checksum: 8, known: 0 },
      erased: 0,
      written: 0,
      checks: 1, // one checksum over the run of adjacent units
    });
    expect(module.stats.commands["0x44"]).toBeUndefined();
    expect(module.stats.commands["0x31"]).toBeUndefined();
  });

  it("rewrites a unit that differs in one byte, and only that unit", async () => {
    const old = pattern(16 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const next = old.slice();
    next[5 * PAGE + 777] = (next[5 * PAGE + 777]! + 1) & 0xff;
    const img = image(FLASH, next);
    const result = await flash(bl, img);
    expect(result.ok).toBe(true);
    expect(result.stats.units).toMatchObject({ covered: 8, skipped: 7, erased: 1, written: 1 });
    expect(result.stats.blocksWritten).toBe(PAGE / 256);
    expectHolds(module, img);
  });

  it("finds one differing unit of eight with four Get Checksum exchanges, halving the run", async () => {
    const old = pattern(16 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const next = old.slice();
    next[6 * PAGE + 1] = next[6 * PAGE + 1]! ^ 0x01;
    const before = module.stats.commands["0xa1"] ?? 0;
    const result = await flash(bl, image(FLASH, next), { verify: "readback" });
    expect(result.stats.units).toMatchObject({ covered: 8, checked: 8, skipped: 7, written: 1, checks: 4 });
    // 1 over the run, then units 0–3 (same: 4–7 derived as differing), 4–5 (same: 6–7 derived), 6 (differs: 7 derived same).
    expect((module.stats.commands["0xa1"] ?? 0) - before).toBe(4);
    expectHolds(module, image(FLASH, next));
  });

  it("asks no more than once per unit when every unit differs", async () => {
    const old = pattern(16 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const next = pattern(16 * KiB, 4);
    const result = await flash(bl, image(FLASH, next), { verify: "readback" });
    expect(result.stats.units).toMatchObject({ covered: 8, skipped: 0, written: 8, checks: 8 });
    expectHolds(module, image(FLASH, next));
  });

  it("treats the erased rest of a partly covered unit as content: stale bytes there get the unit rewritten", async () => {
    const old = pattern(4 * KiB, 3); // two full pages of old firmware
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    // The new image is shorter: it ends inside page 1, whose tail a full flash would erase.
    const img = image(FLASH, old.subarray(0, PAGE + 100));
    const result = await flash(bl, img);
    expect(result.stats.units).toMatchObject({ covered: 2, skipped: 1, written: 1 });
    expect(module.memory.read(FLASH + PAGE + 100, PAGE - 100).every((b) => b === 0xff)).toBe(true);
  });

  it("rewrites every unit without evidence: no Get Checksum and no trusted known content", async () => {
    const data = pattern(8 * KiB, 3);
    module = sim("f103", { initialFlash: data }); // 1 KiB pages, bootloader v2.2: no 0xA1
    const bl = await connect(module);
    const result = await flash(bl, image(FLASH, data), { known: [{ address: FLASH, data }] });
    expect(result.ok).toBe(true);
    expect(result.stats.units).toMatchObject({ covered: 8, checked: 0, skipped: 0, erased: 8, written: 8 });
    expect(result.stats.notes?.join()).toMatch(/no Get Checksum/);
  });

  it("skips units on known content when trustKnownContent allows it, and still reads the whole image back", async () => {
    const data = pattern(8 * KiB, 3);
    module = sim("f103", { initialFlash: data });
    const bl = await connect(module);
    const next = data.slice();
    next[3 * KiB + 5] = 0;
    const result = await flash(bl, image(FLASH, next), {
      known: [{ address: FLASH, data }],
      trustKnownContent: true,
    });
    expect(result.ok).toBe(true);
    expect(result.stats.units).toMatchObject({
      covered: 8,
      checked: 8,
      skipped: 7,
      skippedBy: { known: 7 },
      written: 1,
    });
    expect(result.stats.verifiedBytes).toBe(8 * KiB);
    expectHolds(module, image(FLASH, next));
  });

  it("catches stale known content with the final verification and repairs it", async () => {
    const data = pattern(8 * KiB, 3);
    const actual = data.slice();
    actual[2 * KiB + 9] = 0x00; // the module holds something other than the records say
    module = sim("f103", { initialFlash: actual });
    const bl = await connect(module);
    const result = await flash(bl, image(FLASH, data), {
      known: [{ address: FLASH, data }],
      trustKnownContent: true,
    });
    expect(result).toMatchObject({ ok: true, stats: { repairs: 1 } });
    expectHolds(module, image(FLASH, data));
  });

  it("ignores known content when the device can be asked: the checksum decides", async () => {
    const data = pattern(8 * KiB, 3);
    const actual = data.slice();
    actual[PAGE + 1] = 0x00;
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: actual });
    const bl = await connect(module);
    const result = await flash(bl, image(FLASH, data), {
      known: [{ address: FLASH, data }],
      trustKnownContent: true,
    });
    expect(result.stats.units).toMatchObject({ skippedBy: { checksum: 3, known: 0 }, written: 1 });
    expect(result.stats.repairs ?? 0).toBe(0);
    expectHolds(module, image(FLASH, data));
  });

  it("catches a device whose Get Checksum lies about a unit with the final verification", async () => {
    const old = pattern(8 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const next = old.slice();
    next[2 * PAGE + 10] = next[2 * PAGE + 10]! ^ 0x40;
    const unit2 = next.subarray(2 * PAGE, 3 * PAGE);
    module.injectFault({
      kind: "checksum-lies",
      nth: 1,
      address: FLASH + 2 * PAGE,
      length: PAGE,
      answer: stm32Crc(unit2),
    });
    const result = await flash(bl, image(FLASH, next));
    expect(result).toMatchObject({ ok: true, stats: { repairs: 1 } });
    // The lie skipped the only differing unit (2), and unit 3's CRC, derived from the lie, came out
    // wrong: unit 3 is rewritten needlessly. Either way the final verification finds unit 2.
    expect(result.stats.units).toMatchObject({ skipped: 3, written: 1 });
    expectHolds(module, image(FLASH, next));
  });

  it("fails verification, not silently, when a lying checksum meets no repair rounds", async () => {
    const old = pattern(8 * KiB, 3);
    module = sim("g071", { bootloaderVersion: 0x33, initialFlash: old });
    const bl = await connect(module);
    const next = old.slice();
    next[10] = next[10]! ^ 0x40;
    module.injectFault({
      kind: "checksum-lies",
      nth: 1,
      address: FLASH,
      length: PAGE,
      answer: stm32Crc(next.subarray(0, PAGE)),
    });
    const result = await flash(bl, image(FLASH, next), { repairRounds: 0 });
    expect(result).toMatchObject({ ok: false, error: { code: "verify-failed" } });
  });

  describe("resume after a power cut", () => {
    // 16 KiB = 8 units of 8 blocks: cut in the 2nd block, inside the 2nd unit, at a unit edge, in the last block.
    for (const nth of [2, 12, 17, 64]) {
      it(`continues from what the module holds after a cut at write ${nth}, rewriting only unfinished units`, async () => {
        module = sim("g071", { bootloaderVersion: 0x33, initialFlash: pattern(16 * KiB, 8) });
        const img = image(FLASH, pattern(16 * KiB, 3));
        const first = await connect(module);
        beforeWrite(module, nth, { kind: "power-cut", atByte: 7 + 100 });
        const cut = await flash(first, img);
        expect(cut).toMatchObject({ ok: false, previous: "partly-erased" });
        module.powerOn();
        const bl = await connect(module);
        const result = await flash(bl, img);
        expect(result.ok).toBe(true);
        const done = Math.floor((nth - 1) / 8); // units whose 8 blocks were all written
        expect(result.stats.units).toMatchObject({ covered: 8, skipped: done, written: 8 - done });
        expectHolds(module, img);
      });
    }

    it("continues after a cut inside the erase command", async () => {
      module = sim("g071", { bootloaderVersion: 0x33, initialFlash: pattern(16 * KiB, 8) });
      const img = image(FLASH, pattern(16 * KiB, 3));
      const first = await connect(module);
      // The cut comes inside the page list of the Extended Erase (0x44).
      const cutInErase = ({ opcode }: { opcode: number }): void => {
        if (opcode === 0x44) module!.injectFault({ kind: "power-cut", atByte: 3 });
      };
      module.on("command", cutInErase);
      expect(await flash(first, img)).toMatchObject({ ok: false, previous: "partly-erased" });
      module.off("command", cutInErase);
      module.powerOn();
      const result = await flash(await connect(module), img);
      expect(result.ok).toBe(true);
      expectHolds(module, img);
    });
  });
});
