/**
 * Interop: the real stm32flash (0.7, the reference host of docs/protocol.md §6.1) against
 * `subflash sim` on a pseudo-terminal. stm32flash is a real peer: whatever it sends, a real ROM would
 * accept, so the simulator must too. Runs with timing on (real wire and flash times).
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stm32Crc } from "../../src/signing/index.js";
import { DEVICES } from "../../src/targets/stm32/devices.js";
import { ptySupport } from "../../src/targets/transport/pty.js";
import { pattern } from "../sim/module/raw-host.js";
import { startSimProcess } from "../sim/module/sim-process.js";

const REQUIRE = process.env.SUBFLASH_REQUIRE_STM32FLASH === "1";
const hasStm32flash = spawnSync("stm32flash", ["-h"], { stdio: "ignore" }).error === undefined;
const pty = await ptySupport();
const runnable = (hasStm32flash && pty.available) || REQUIRE || pty.required;
const why = !hasStm32flash ? "stm32flash is not installed" : !pty.available ? pty.reason : "";

interface Run {
  code: number | null;
  output: string;
}

function stm32flash(args: string[], port: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      "stm32flash",
      ["-m", "8n1", "-b", "115200", ...args, port],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error && typeof error.code !== "number")
          reject(new Error(`stm32flash ${args.join(" ")}: ${error.message}\n${output}`));
        else resolve({ code: typeof error?.code === "number" ? error.code : 0, output });
      },
    );
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "subflash-interop-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The simulator's final statistics. In tty mode the stats file is rewritten asynchronously while it
 * runs and synchronously at exit, so the simulator is stopped first: reading the file while it runs
 * could see the state before stm32flash's last command.
 */
async function finalStats(
  sim: { stop(): Promise<number | null>; stderr(): string },
  file: string,
): Promise<{ commands: Record<string, number>; bytesProgrammed: number }> {
  expect(await sim.stop(), sim.stderr()).toBe(0);
  return JSON.parse(readFileSync(file, "utf8")) as {
    commands: Record<string, number>;
    bytesProgrammed: number;
  };
}

describe.skipIf(!runnable)(`stm32flash against subflash sim${why ? ` (${why})` : ""}`, () => {
  it("finds stm32flash when SUBFLASH_REQUIRE_STM32FLASH=1", () => {
    expect(hasStm32flash).toBe(true);
  });

  // 5001 bytes: not a multiple of 4 (stm32flash pads the last block with 0xFF) nor of 256.
  const image = pattern(5001, 0x5eed);
  const cases: Array<{ device: string; erase: string; name: string }> = [
    { device: "f103", erase: "0x43", name: "STM32F10xxx Medium-density" },
    { device: "f407", erase: "0x44", name: "STM32F40xxx/41xxx" },
    { device: "g071", erase: "0x44", name: "STM32G07xxx/08xxx" },
  ];

  for (const { device, erase, name } of cases) {
    it(`writes with -v and reads back an image on a simulated ${device}`, async () => {
      const bin = join(dir, `${device}.bin`);
      const out = join(dir, `${device}.out`);
      const stats = join(dir, `${device}.stats.json`);
      writeFileSync(bin, image);
      const sim = await startSimProcess(["--device", device, "--stats-file", stats]);
      try {
        const write = await stm32flash(["-w", bin, "-v"], sim.hostPath);
        expect(write.output).toContain(name);
        expect(write.output).toMatch(/Wrote and verified address 0x08001389 \(100\.00%\) Done\./);
        expect(write.code, write.output).toBe(0);
        const read = await stm32flash(["-r", out, "-S", `0x08000000:${image.length}`], sim.hostPath);
        expect(read.code, read.output).toBe(0);
        expect(new Uint8Array(readFileSync(out))).toEqual(image);
        const used = await finalStats(sim, stats);
        expect(used.commands[erase]).toBe(1);
        expect(used.commands["0x31"]).toBe(20);
        expect(used.bytesProgrammed).toBeGreaterThanOrEqual(5004);
      } finally {
        expect(await sim.stop(), sim.stderr()).toBe(0);
      }
    });
  }

  it("computes the flash CRC with Get Checksum 0xA1 on a v3.3 bootloader (stm32flash -C)", async () => {
    const flashFile = join(dir, "g071-crc.bin");
    const flash = new Uint8Array(128 * 1024).fill(0xff);
    flash.set(image.subarray(0, 5000));
    writeFileSync(flashFile, flash);
    const stats = join(dir, "crc.stats.json");
    const sim = await startSimProcess([
      "--device",
      "g071",
      "--bootloader-version",
      "0x33",
      "--flash-file",
      flashFile,
      "--stats-file",
      stats,
    ]);
    try {
      const run = await stm32flash(["-C", "-S", "0x08000000:5000"], sim.hostPath);
      expect(run.code, run.output).toBe(0);
      const crc = stm32Crc(image.subarray(0, 5000)).toString(16).padStart(8, "0");
      expect(run.output).toContain(`CRC(0x08000000-0x08001388) = 0x${crc}`);
      expect((await finalStats(sim, stats)).commands["0xa1"]).toBe(1);
    } finally {
      expect(await sim.stop(), sim.stderr()).toBe(0);
    }
  });

  it("resets the module with -R (RAM stub + Go), after which a new session finds the bootloader again", async () => {
    const bin = join(dir, "reset.bin");
    writeFileSync(bin, image.subarray(0, 1024));
    const sim = await startSimProcess(["--device", "g071"]);
    try {
      const run = await stm32flash(["-w", bin, "-R"], sim.hostPath);
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain("Reset done.");
      const again = await stm32flash([], sim.hostPath);
      expect(again.code, again.output).toBe(0);
      expect(again.output).toContain("Device ID    : 0x0460");
    } finally {
      expect(await sim.stop(), sim.stderr()).toBe(0);
    }
  });

  it("sets and lifts read-out protection (-j, -k) and finds the flash erased afterwards", async () => {
    const flashFile = join(dir, "f103-rdp.bin");
    const flash = new Uint8Array(128 * 1024).fill(0x00);
    writeFileSync(flashFile, flash);
    const sim = await startSimProcess(["--device", "f103", "--flash-file", flashFile]);
    try {
      expect((await stm32flash(["-j"], sim.hostPath)).code).toBe(0);
      const refused = await stm32flash(["-r", join(dir, "rdp.out"), "-S", "0x08000000:16"], sim.hostPath);
      expect(refused.output).toMatch(/NACK from device on command 0x11/);
      expect((await stm32flash(["-k"], sim.hostPath)).code).toBe(0);
      await new Promise((r) => setTimeout(r, 100)); // mass erase + reset (F1: ~50 ms)
      const read = await stm32flash(["-r", join(dir, "rdp.out"), "-S", "0x08000000:16"], sim.hostPath);
      expect(read.code, read.output).toBe(0);
      expect(Array.from(readFileSync(join(dir, "rdp.out")))).toEqual(new Array(16).fill(0xff));
    } finally {
      expect(await sim.stop(), sim.stderr()).toBe(0);
    }
  });

  /**
   * Every part of our table that stm32flash 0.7 knows (its names are compiled into the binary; the
   * fixture marks them inDebian07): write + verify, read back, CRC (-C: Get Checksum where listed,
   * else stm32flash's own reads) and erase-only (-o), with the timing model off and parts in
   * parallel batches (vitest's concurrency limit) to keep the run short.
   */
  const peers = JSON.parse(
    readFileSync(new URL("../fixtures/peer-devices/stm32flash.json", import.meta.url), "utf8"),
  ) as { devices: Array<{ pid: string; name: string; inDebian07: boolean }> };
  // SUBFLASH_INTEROP_PARTS=0x410,0x460 narrows the run to some parts while debugging one.
  const only = process.env.SUBFLASH_INTEROP_PARTS?.split(",").map((p) => Number(p.trim()));
  const known = peers.devices.filter(
    (p) =>
      p.inDebian07 &&
      DEVICES.some((d) => d.pid === Number(p.pid)) &&
      (only === undefined || only.includes(Number(p.pid))),
  );
  const small = pattern(3001, 0xfeed);

  it("covers the parts stm32flash 0.7 knows", () => {
    if (only === undefined) expect(known.length).toBeGreaterThanOrEqual(54);
  });

  describe.concurrent(`every table part stm32flash 0.7 knows (${known.length})`, () => {
    for (const peer of known) {
      it(`${peer.pid} ${peer.name}: -w -v, -r, -C and -o pass`, async () => {
        const tag = peer.pid;
        const bin = join(dir, `all-${tag}.bin`);
        const out = join(dir, `all-${tag}.out`);
        writeFileSync(bin, small);
        // Several simulators start at once on a shared CI machine: give start-up room.
        const sim = await startSimProcess(["--device", tag, "--no-timing"], 120_000);
        try {
          const write = await stm32flash(["-w", bin, "-v"], sim.hostPath);
          expect(write.code, write.output).toBe(0);
          expect(write.output).toContain(peer.name);
          expect(write.output).toMatch(/Wrote and verified address 0x08000bb9 \(100\.00%\) Done\./);
          const read = await stm32flash(["-r", out, "-S", `0x08000000:${small.length}`], sim.hostPath);
          expect(read.code, read.output).toBe(0);
          expect(new Uint8Array(readFileSync(out))).toEqual(small);
          const crc = await stm32flash(["-C", "-S", "0x08000000:3000"], sim.hostPath);
          expect(crc.code, crc.output).toBe(0);
          const want = stm32Crc(small.subarray(0, 3000)).toString(16).padStart(8, "0");
          expect(crc.output).toContain(`= 0x${want}`);
          const erase = await stm32flash(["-o"], sim.hostPath);
          expect(erase.code, erase.output).toBe(0);
          const blank = await stm32flash(["-r", out, "-S", "0x08000000:256"], sim.hostPath);
          expect(blank.code, blank.output).toBe(0);
          expect(Array.from(readFileSync(out))).toEqual(new Array(256).fill(0xff));
        } finally {
          expect(await sim.stop(), sim.stderr()).toBe(0);
        }
      }, 300_000);
    }
  });
});
