/** The flasher end to end against the simulated module: planning, verification, faults and results. */
import { afterEach, describe, expect, it } from "vitest";
import type { SimFault, SimulatedModule } from "../../../src/sim/module/index.js";
import { Flasher, flashImage } from "../../../src/targets/stm32/flasher.js";
import type { FlashOptions, FlashProgress, FlashResult } from "../../../src/targets/stm32/flash-types.js";
import type { Bootloader } from "../../../src/targets/stm32/bootloader.js";
import type { FirmwareImage } from "../../../src/targets/image/image.js";
import { captureLogger, connect, image, pattern, sim } from "./helpers.js";

const FLASH = 0x08000000;
const KiB = 1024;
/** Bytes a Write Memory sends before its data frame: command (2) and address frame (5). */
const BEFORE_DATA = 7;
/** The full-image path without the pre-erase link proof: these tests count its commands and bytes. */
const FULL_PATH: FlashOptions = { diff: "off", proveLink: false };

/** Injects `fault` when the `nth` Write Memory (1-based) is about to start. */
function beforeWrite(module: SimulatedModule, nth: number, ...faults: SimFault[]): void {
  let done = 0;
  if (nth === 1) faults.forEach((f) => module.injectFault(f));
  module.on("command", ({ opcode }) => {
    if (opcode === 0x31 && ++done === nth - 1) faults.forEach((f) => module.injectFault(f));
  });
}

function expectFlashed(module: SimulatedModule, img: FirmwareImage): void {
  for (const s of img.segments) expect(module.memory.read(s.address, s.data.length)).toEqual(s.data);
}

async function run(bl: Bootloader, img: FirmwareImage, options: FlashOptions = {}) {
  const progress: FlashProgress[] = [];
  const retries: { what: string; attempt: number; of: number; reason: string }[] = [];
  const result = await flashImage(bl, img, options, {
    progress: (p) => progress.push(p),
    retry: (r) => retries.push(r),
  });
  return { result, progress, retries };
}

function failed(result: FlashResult): Extract<FlashResult, { ok: false }> {
  if (result.ok) throw new Error("expected the flash to fail");
  return result;
}

describe("Flasher", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  describe("success", () => {
    it("flashes and verifies with one Get Checksum per contiguous range when the device offers 0xA1", async () => {
      module = sim("g071", { bootloaderVersion: 0x33, initialFlash: pattern(64 * KiB, 9) });
      const bl = await connect(module);
      const img = image(FLASH, pattern(20 * KiB));
      const { result } = await run(bl, img, FULL_PATH);
      expect(result).toMatchObject({
        ok: true,
        previous: "replaced",
        stats: { verifiedBy: "crc", blocksWritten: 80, eraseUnits: 10, retries: 0 },
      });
      expectFlashed(module, img);
      expect(module.stats.commands["0xa1"]).toBe(1);
      expect(module.stats.commands["0x11"]).toBe(1); // the RDP probe only
      // Units beyond the image are untouched.
      expect(module.memory.read(FLASH + 20 * KiB, 16)).toEqual(
        pattern(64 * KiB, 9).subarray(20 * KiB, 20 * KiB + 16),
      );
    });

    it("verifies by reading back the written blocks when 0xA1 is not offered", async () => {
      module = sim("f103");
      const bl = await connect(module);
      const data = pattern(8 * KiB);
      data.fill(0xff, 2 * KiB, 4 * KiB); // 8 blank blocks
      const img = image(FLASH, data);
      const { result } = await run(bl, img, FULL_PATH);
      expect(result).toMatchObject({
        ok: true,
        stats: { verifiedBy: "readback", blocksWritten: 24, blocksSkipped: 8, verifiedBytes: 6 * KiB },
      });
      expect(result.stats.notes).toContain(
        "read-back covers the written blocks; skipped blank blocks are covered by the erase",
      );
      expectFlashed(module, img);
      expect(module.stats.commands["0x31"]).toBe(24);
      expect(module.stats.commands["0x11"]).toBe(1 + 24);
      expect(module.stats.commands["0x43"]).toBe(1);
    });

    it("reports flash written without verification as unverified when verify none is asked", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      const { result } = await run(bl, image(FLASH, pattern(1024)), { ...FULL_PATH, verify: "none" });
      expect(result).toMatchObject({ ok: true, stats: { verifiedBy: "none" } });
      expect(result.stats.notes).toContain("not verified (verify: none)");
      expect(module.stats.commands["0xa1"]).toBeUndefined();
    });

    it("mass-erases when asked", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const { result } = await run(bl, image(FLASH, pattern(1024)), { erase: "mass" });
      expect(result).toMatchObject({ ok: true, stats: { massErase: true } });
      expect(module.stats.massErases).toBe(1);
    });

    it("reports progress through erase, write and verify with a monotonic percent ending at 100", async () => {
      module = sim("f407", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      const { progress } = await run(bl, image(FLASH, pattern(40 * KiB)), FULL_PATH);
      const phases = [...new Set(progress.map((p) => p.phase))];
      expect(phases).toEqual(["erase", "write", "verify"]);
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]!.percent).toBeGreaterThanOrEqual(progress[i - 1]!.percent);
      expect(progress.at(-1)!.percent).toBe(100);
      expect(progress.at(-1)!.remainingSeconds).toBe(0);
      const writes = progress.filter((p) => p.phase === "write");
      expect(writes.at(-1)).toMatchObject({ done: 40 * KiB, total: 40 * KiB });
    });

    it("counts the wire bytes of the operation", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const transport = module.openUsart();
      const { Bootloader } = await import("../../../src/targets/stm32/bootloader.js");
      const bl = await Bootloader.connect(transport);
      const before = { ...transport.stats };
      const { result } = await run(bl, image(FLASH, pattern(4 * KiB)), FULL_PATH);
      expect(result.stats.wire).toEqual({
        sent: transport.stats.bytesWritten - before.bytesWritten,
        received: transport.stats.bytesRead - before.bytesRead,
      });
      // 16 blocks × (2 + 5 + 258) plus erase and checksum frames; 3 ACKs per block back.
      expect(result.stats.wire.sent).toBeGreaterThan(16 * 265);
      expect(result.stats.wire.received).toBeLessThan(16 * 3 + 40);
    });

    it("starts the image after a verified flash when asked (go: true = image start)", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const { result, progress } = await run(bl, image(FLASH + 0x4000, pattern(512)), { go: true });
      expect(result.ok).toBe(true);
      expect(module.state).toBe("application");
      expect(progress.at(-1)).toMatchObject({ phase: "go", percent: 100 });
    });
  });

  describe("retries", () => {
    it("retries a block whose data byte was lost on the line, after resynchronising", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const { logger, lines } = captureLogger(["warn"]);
      const bl = await connect(module, { logger });
      beforeWrite(module, 10, { kind: "drop", direction: "rx", atByte: BEFORE_DATA + 100 });
      const img = image(FLASH, pattern(8 * KiB));
      const { result, retries } = await run(bl, img, { logger } as FlashOptions);
      expect(result).toMatchObject({ ok: true, stats: { retries: 1, verifiedBy: "crc" } });
      expect(retries).toEqual([
        {
          what: `write at 0x08000900`,
          attempt: 2,
          of: 3,
          reason: expect.stringMatching(/no ACK within/) as unknown,
        },
      ]);
      expect(lines.some((l) => l.msg === "retrying" && l.obj.attempt === "2/3")).toBe(true);
      expectFlashed(module, img);
    });

    it("does not rewrite a block whose ACK was lost: it reads it back and finds it written", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      beforeWrite(module, 5, { kind: "drop", direction: "tx", atByte: 3 }); // the third ACK of write 5
      const img = image(FLASH, pattern(4 * KiB));
      const { result } = await run(bl, img);
      expect(result).toMatchObject({ ok: true, stats: { retries: 1 } });
      expect(module.stats.commands["0x31"]).toBe(16); // no second attempt of block 5
      expectFlashed(module, img);
    });

    it("retries a block the device NACKed for a bad checksum", async () => {
      module = sim("f103");
      const bl = await connect(module);
      beforeWrite(module, 3, { kind: "corrupt", direction: "rx", atByte: BEFORE_DATA + 5, mask: 0x10 });
      const img = image(FLASH, pattern(2 * KiB));
      const { result, retries } = await run(bl, img);
      expect(result.ok).toBe(true);
      expect(retries[0]!.reason).toMatch(/Write Memory at 0x08000200 \(data\): device answered NACK/);
      expectFlashed(module, img);
    });

    it("retries after a garbled ACK", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      beforeWrite(module, 2, { kind: "corrupt", direction: "tx", atByte: 2, mask: 0x80 });
      const img = image(FLASH, pattern(2 * KiB));
      const { result, retries } = await run(bl, img);
      expect(result.ok).toBe(true);
      expect(retries[0]!.reason).toMatch(/instead of ACK\/NACK/);
      expectFlashed(module, img);
    });

    it("recovers from a device that stays busy past the timeout: resync, then finds the block written", async () => {
      module = sim("g071", { timing: true, baud: 1_000_000 });
      const bl = await connect(module);
      module.injectFault({ kind: "busy", nth: 2, ms: 600 }); // the 2nd flash operation after the erase-less start
      const img = image(FLASH, pattern(1024));
      const { result, retries } = await run(bl, img);
      expect(result).toMatchObject({ ok: true, stats: { retries: 1 } });
      expect(retries[0]!.reason).toMatch(/no ACK within/);
      expectFlashed(module, img);
    });

    it("retries a write the device refused (nack-write)", async () => {
      module = sim("g071");
      const bl = await connect(module);
      module.injectFault({ kind: "nack-write", nth: 7 });
      const img = image(FLASH, pattern(4 * KiB));
      const { result } = await run(bl, img);
      expect(result).toMatchObject({ ok: true, stats: { retries: 1, verifiedBy: "readback" } });
      expectFlashed(module, img);
    });
  });

  describe("verification catches what the device acknowledged but stored wrong", () => {
    /** Two flipped bits in one data frame keep its XOR: the device ACKs and programs the wrong bytes. */
    const silentCorruption = (n: number): SimFault[] => [
      { kind: "corrupt", direction: "rx", atByte: BEFORE_DATA + 1 + n, mask: 0x04 },
      { kind: "corrupt", direction: "rx", atByte: BEFORE_DATA + 1 + n + 7, mask: 0x04 },
    ];

    for (const verify of ["crc", "readback"] as const) {
      it(`finds the bad block by ${verify}, erases its unit again and rewrites it`, async () => {
        module = sim("g071", { bootloaderVersion: 0x33 });
        const bl = await connect(module);
        beforeWrite(module, 12, ...silentCorruption(30));
        const img = image(FLASH, pattern(8 * KiB));
        const { result } = await run(bl, img, { verify });
        expect(result).toMatchObject({
          ok: true,
          previous: "replaced",
          stats: { repairs: 1, verifiedBy: verify },
        });
        expectFlashed(module, img);
      });

      it(`fails with the flash partly erased when repair is off (${verify})`, async () => {
        module = sim("g071", { bootloaderVersion: 0x33 });
        const bl = await connect(module);
        beforeWrite(module, 12, ...silentCorruption(30));
        const { result } = await run(bl, image(FLASH, pattern(8 * KiB)), { verify, repairRounds: 0 });
        const failure = failed(result);
        expect(failure.previous).toBe("partly-erased");
        expect(failure.error).toMatchObject({ code: "verify-failed" });
        expect(failure.error.message).toMatch(/flash differs from the image at 0x08000B00/);
      });
    }

    it("does not claim verification when verify none was asked", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      beforeWrite(module, 2, ...silentCorruption(3));
      const { result } = await run(bl, image(FLASH, pattern(1 * KiB)), { verify: "none" });
      expect(result.stats.verifiedBy).toBe("none");
      expect(result.stats.notes).toContain("not verified (verify: none)");
    });
  });

  describe("trimmed blocks", () => {
    /** A seeded image of random bytes with 0xFF runs of random length, aligned to nothing. */
    function gapped(length: number, seed: number): Uint8Array {
      const data = pattern(length, seed);
      let x = seed;
      const next = (n: number): number => {
        x = (x * 1103515245 + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      for (let gaps = 0; gaps < 12; gaps++) {
        const at = next(length);
        data.fill(0xff, at, at + 1 + next(700));
      }
      return data;
    }

    for (const [device, version] of [
      ["f103", 0x22],
      ["g071", 0x31],
      ["f407", 0x31],
    ] as const) {
      it(`leaves ${device} flash equal to random gapped images, writing less than the blocks hold`, async () => {
        for (const seed of [3, 4]) {
          module = sim(device, { bootloaderVersion: version, initialFlash: pattern(32 * KiB, 7) });
          const bl = await connect(module);
          const data = gapped(12 * KiB + 100, seed);
          const start = FLASH + 8 * KiB + 36;
          const { result, progress } = await run(bl, image(start, data), { verify: "readback" });
          expect(result).toMatchObject({ ok: true, stats: { verifiedBy: "readback" } });
          expect(module.memory.read(start, data.length)).toEqual(data);
          // Only the trimmed ranges went over the wire, and progress counted exactly those bytes.
          const blockBytes = 256 * result.stats.blocksWritten;
          expect(result.stats.bytesWritten).toBeLessThan(blockBytes - 256);
          expect(result.stats.verifiedBytes).toBe(result.stats.bytesWritten);
          const writes = progress.filter((p) => p.phase === "write");
          expect(writes.at(-1)).toMatchObject({
            done: result.stats.bytesWritten,
            total: result.stats.bytesWritten,
          });
          const verifies = progress.filter((p) => p.phase === "verify");
          expect(verifies.at(-1)).toMatchObject({ total: result.stats.bytesWritten });
          expect(progress.at(-1)!.percent).toBe(100);
          await module.close();
          module = undefined;
        }
      });
    }

    it("reads back only the written part of a trimmed block and still catches a bad byte in it", async () => {
      module = sim("g071", { bootloaderVersion: 0x31 });
      const bl = await connect(module);
      const data = pattern(1 * KiB);
      data.fill(0xff, 256, 256 + 64); // block 2 is written from 0x08000140
      // Two flipped bits 7 bytes apart keep the data frame's XOR: the device ACKs and stores them.
      beforeWrite(
        module,
        2,
        { kind: "corrupt", direction: "rx", atByte: BEFORE_DATA + 1 + 10, mask: 0x04 },
        { kind: "corrupt", direction: "rx", atByte: BEFORE_DATA + 1 + 17, mask: 0x04 },
      );
      const { result } = await run(bl, image(FLASH, data), { verify: "readback", repairRounds: 0 });
      const failure = failed(result);
      expect(failure.error).toMatchObject({ code: "verify-failed", context: { address: FLASH + 256 + 64 } });
      expect(failure.error.message).toMatch(/flash differs from the image at 0x08000140/);
      expect(result.stats.bytesWritten).toBe(1 * KiB - 64);
    });
  });

  describe("failures", () => {
    it("leaves a readout-protected module untouched and says how to lift RDP", async () => {
      module = sim("g071", { rdp: 1 });
      const bl = await connect(module);
      const { result } = await run(bl, image(FLASH, pattern(1024)));
      const failure = failed(result);
      expect(failure).toMatchObject({ previous: "untouched", error: { code: "readout-protected" } });
      expect(failure.error.message).toMatch(/unprotect --readout/);
      expect(module.stats.commands["0x44"]).toBeUndefined();
    });

    it("refuses an image larger than the flash before erasing anything", async () => {
      module = sim("g071", { initialFlash: pattern(1024, 4) });
      const bl = await connect(module);
      const { result } = await run(bl, image(FLASH, pattern(128 * KiB + 8)));
      const failure = failed(result);
      expect(failure).toMatchObject({ previous: "untouched", error: { code: "out-of-range" } });
      expect(failure.error.message).toMatch(/does not fit flash 0x08000000–0x08020000 of STM32G07x\/G08x/);
      expect(module.memory.read(FLASH, 1024)).toEqual(pattern(1024, 4));
    });

    it("refuses an image outside the flash (linked for RAM) before erasing anything", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const failure = failed((await run(bl, image(0x20000000, pattern(64)))).result);
      expect(failure).toMatchObject({ previous: "untouched", error: { code: "out-of-range" } });
    });

    it("fails --verify crc on a device without Get Checksum before erasing anything", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const failure = failed((await run(bl, image(FLASH, pattern(64)), { verify: "crc" })).result);
      expect(failure).toMatchObject({ previous: "untouched", error: { code: "command-unsupported" } });
      expect(failure.error.message).toMatch(/Get Checksum \(0xA1\) \(asked for by --verify crc/);
    });

    it("stops when the power goes during the write and reports the module partly erased", async () => {
      module = sim("g071", { bootloaderVersion: 0x33 });
      const bl = await connect(module);
      beforeWrite(module, 6, { kind: "power-cut", atByte: BEFORE_DATA + 40 });
      const { result } = await run(bl, image(FLASH, pattern(4 * KiB)));
      const failure = failed(result);
      expect(failure.previous).toBe("partly-erased");
      expect(failure.error).toMatchObject({ code: "no-answer" });
      expect(failure.error.message).toMatch(/may have reset or lost power/);
      expect(failure.stats.blocksWritten).toBe(5);
    });

    it("reports partly erased when the power goes during the erase", async () => {
      module = sim("f407");
      const bl = await connect(module);
      module.injectFault({ kind: "power-cut", atByte: 3 }); // inside the page list of the erase
      const failure = failed((await run(bl, image(FLASH, pattern(1024)), FULL_PATH)).result);
      expect(failure.previous).toBe("partly-erased");
    });

    it("gives up on a block after its attempts and says so", async () => {
      module = sim("g071");
      const bl = await connect(module);
      for (const nth of [3, 4, 5]) module.injectFault({ kind: "nack-write", nth });
      const { result, retries } = await run(bl, image(FLASH, pattern(2 * KiB)));
      const failure = failed(result);
      expect(failure).toMatchObject({
        previous: "partly-erased",
        error: { code: "nack", context: { phase: "data", address: FLASH + 0x200 } },
      });
      expect(retries.map((r) => r.attempt)).toEqual([2, 3]);
    });

    it("stops between blocks when cancelled and reports what the flash holds", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const controller = new AbortController();
      const flasher = new Flasher(bl);
      flasher.on("progress", (p) => {
        if (p.phase === "write" && p.done >= 1024) controller.abort();
      });
      const failure = failed(
        await flasher.flash(image(FLASH, pattern(4 * KiB)), { signal: controller.signal }),
      );
      expect(failure).toMatchObject({ previous: "partly-erased", error: { code: "cancelled" } });
      expect(failure.stats.blocksWritten).toBe(4);
    });

    it("reports the new firmware replaced when only the final Go fails", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const failure = failed((await run(bl, image(FLASH, pattern(256)), { go: 0x30000000 })).result);
      expect(failure).toMatchObject({
        previous: "replaced",
        error: { code: "nack", context: { command: "Go" } },
      });
      expect(failure.stats.verifiedBy).toBe("readback");
    });

    it("emits the result as a done event too", async () => {
      module = sim("g071");
      const bl = await connect(module);
      const flasher = new Flasher(bl);
      const seen: FlashResult[] = [];
      flasher.on("done", (r) => seen.push(r));
      const result = await flasher.flash(image(FLASH, pattern(256)));
      expect(seen).toEqual([result]);
    });
  });
});
