/**
 * The bench commands end to end: `subflash flash/read/info/erase/unprotect` over a socat pty pair
 * against `subflash sim` in another process, as a user at the bench would run them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ptySupport } from "../../src/targets/transport/pty.js";
import { startSimProcess, type SimProcess } from "../sim/module/sim-process.js";
import { jsonLines, subflash, subflashLive } from "./bench-run.js";

const pty = await ptySupport();

function data(length: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 16) & 0xff;
  });
}

describe.skipIf(!pty.available && !pty.required)(
  `bench commands over a pty against subflash sim${pty.available ? "" : ` (${pty.reason})`}`,
  () => {
    let dir: string;
    let sim: SimProcess | undefined;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "subflash-bench-cli-"));
    });
    afterEach(async () => {
      await sim?.stop();
      sim = undefined;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("flashes an image, reads it back identical, and the simulator's flash file holds it", async () => {
      const flashFile = join(dir, "g071.flash");
      sim = await startSimProcess([
        "--device",
        "g071",
        "--no-timing",
        "--bootloader-version",
        "0x33",
        "--flash-file",
        flashFile,
      ]);
      const image = data(10_000, 1);
      writeFileSync(join(dir, "app.bin"), image);
      const port = ["--port", sim.hostPath, "--parity", "none"];

      const flashed = await subflash(["flash", ...port, join(dir, "app.bin")]);
      expect(flashed.stderr).toMatch(
        /flashed .*app\.bin \(9\.77 KiB\) to STM32G07x\/G08x on .*: erased 5 unit\(s\), wrote 40 block\(s\).*verified by Get Checksum \(0xA1\)/,
      );
      expect(flashed.code).toBe(0);

      const read = await subflash([
        "read",
        ...port,
        "--address",
        "0x08000000",
        "--length",
        "10000",
        "--out",
        join(dir, "back.bin"),
      ]);
      expect(read.code).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, "back.bin")))).toEqual(image);
      expect(new Uint8Array(readFileSync(flashFile).subarray(0, 10_000))).toEqual(image);

      const info = await subflash(["info", ...port, "--json"]);
      expect(info.code).toBe(0);
      expect(JSON.parse(info.stdout)).toMatchObject({
        device: { name: "STM32G07x/G08x", pid: 0x460 },
        bootloader: { version: "3.3" },
        flash: { start: 0x08000000, end: 0x08020000, erase: "64 pages of 2 KiB" },
        rdp: "level0",
        flashStart: { blank: false },
      });
    });

    it("prints JSON progress lines then the result with --json, and erases and reads on request", async () => {
      sim = await startSimProcess(["--device", "f103", "--no-timing"]);
      writeFileSync(join(dir, "f1.bin"), data(3000, 2));
      const port = ["--port", sim.hostPath, "--parity", "none"];
      const run = await subflash(["flash", ...port, join(dir, "f1.bin"), "--json"]);
      expect(run.code).toBe(0);
      const lines = jsonLines(run.stdout);
      const progress = lines.filter((l) => l.event === "progress");
      expect(progress.map((p) => p.phase)).toContain("write");
      expect(progress.at(-1)).toMatchObject({ phase: "verify", percent: 100 });
      const result = lines.at(-1);
      expect(result).toMatchObject({
        event: "result",
        ok: true,
        previous: "replaced",
        stats: { verifiedBy: "readback", eraseUnits: 3 },
        timing: { connectMs: expect.any(Number), sessionMs: expect.any(Number) },
      });
      // The session's time is the connect plus the flash itself.
      const { timing, stats } = result as { timing: Record<string, number>; stats: { elapsedMs: number } };
      expect(timing.sessionMs).toBeGreaterThanOrEqual(timing.connectMs! + stats.elapsedMs - 2);

      const missing = await subflash(["erase", ...port, "--pages", "0-1,200"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(
        /--pages: STM32F10x medium-density has pages 0\.\.127; 200 does not exist/,
      );
      const erased = await subflash(["erase", ...port, "--pages", "0-1"]);
      expect(erased.stderr).toMatch(/erased 2 unit\(s\): 0 \(0x08000000\), 1 \(0x08000400\) of STM32F10x/);
      const read = await subflash([
        "read",
        ...port,
        "--address",
        "0x08000000",
        "--length",
        "3000",
        "--out",
        join(dir, "f1-back.bin"),
        "--json",
      ]);
      const back = new Uint8Array(readFileSync(join(dir, "f1-back.bin")));
      expect(back.subarray(0, 2048).every((b) => b === 0xff)).toBe(true);
      expect(back.subarray(2048)).toEqual(data(3000, 2).subarray(2048));
      expect(jsonLines(read.stdout).at(-1)).toMatchObject({ event: "result", ok: true, length: 3000 });
    });

    // Issue 10, defect 12: an image that does not fit is bad input (exit 2), not a failed flash (exit 1).
    it("refuses an image that does not fit with exit 2 and the previous firmware untouched", async () => {
      sim = await startSimProcess(["--device", "g071", "--no-timing"]);
      writeFileSync(join(dir, "big.bin"), data(128 * 1024 + 4, 3));
      const run = await subflash(["flash", "--port", sim.hostPath, "--parity", "none", join(dir, "big.bin")]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /image 0x08000000–0x08020004 does not fit flash 0x08000000–0x08020000 of STM32G07x\/G08x/,
      );
      expect(run.stderr).toMatch(/previous firmware: untouched/);
    });

    it("exits 3 with a recovery hint when the module goes away in the middle of writing", async () => {
      sim = await startSimProcess(["--device", "g071"]); // timing on: 64 KiB take several seconds
      writeFileSync(join(dir, "app64.bin"), data(64 * 1024, 4));
      const running = sim;
      let killed = false;
      const run = await subflashLive(
        ["flash", "--port", sim.hostPath, "--parity", "none", join(dir, "app64.bin")],
        (stderr) => {
          if (!killed && /write [2-9]\d%/.test(stderr)) {
            killed = true;
            running.child.kill("SIGKILL");
          }
        },
      );
      expect(killed).toBe(true);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/could not resynchronise/);
      expect(run.stderr).toMatch(/PARTLY ERASED\. The module needs recovery/);
    });

    it("lifts readout protection only with --yes, then the module reads as erased", async () => {
      sim = await startSimProcess(["--device", "g071", "--no-timing", "--rdp"]);
      const port = ["--port", sim.hostPath, "--parity", "none"];
      const info = await subflash(["info", ...port]);
      expect(info.stdout).toMatch(/readout: +PROTECTED \(RDP level 1\)/);
      writeFileSync(join(dir, "small.bin"), data(1024, 5));
      const refused = await subflash(["flash", ...port, join(dir, "small.bin")]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/is readout-protected \(RDP level 1\).*unprotect --readout/);
      expect(refused.stderr).toMatch(/previous firmware: untouched/);
      const unconfirmed = await subflash(["unprotect", ...port, "--readout"]);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toMatch(/mass-erases the module's whole flash .* add --yes/);
      const lifted = await subflash(["unprotect", ...port, "--readout", "--yes"]);
      expect(lifted.code).toBe(0);
      expect(lifted.stderr).toMatch(/readout protection lifted \(flash erased\)/);
      expect((await subflash(["info", ...port])).stdout).toMatch(/not protected \(RDP level 0\)/);
    });
  },
);
