/**
 * The simulated module of the flash benchmark: `subflash sim` with timing on, as its own process on
 * one end of a socat pty pair (the other end is the host tools' port), writing its statistics to a
 * file the benchmark diffs around each run.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createPtyPair, type PtyPair } from "../../src/targets/transport/pty.js";
import { SUBFLASH_BIN, SUBFLASH_ENV } from "./tool-runs.js";

/** What the benchmark reads from `--stats-file` (a subset of the simulator's snapshot). */
export interface SimCounters {
  bytesReceived: number;
  bytesSent: number;
  /** Modelled wire time host→module and module→host, 11 bits a byte, ms. */
  wireRxMs: number;
  wireTxMs: number;
  /** Modelled time the flash was busy programming and erasing, ms. */
  flashBusyMs: number;
  unitsErased: number;
  massErases: number;
  bytesProgrammed: number;
  commands: Record<string, number>;
  /** Host turnarounds the simulator saw, and their summed real time (reply handed over → host's next bytes). */
  hostTurnarounds: number;
  hostTurnaroundMs: number;
}

/** The difference of two snapshots: what one run cost the module. */
export interface RunCost {
  bytesIn: number;
  bytesOut: number;
  wireMs: number;
  flashBusyMs: number;
  /** The run's lower bound: every byte's wire time plus the modelled flash time, nothing else. */
  boundMs: number;
  unitsErased: number;
  massErases: number;
  bytesProgrammed: number;
  /** Commands by opcode ("0x31": 256). */
  commands: Record<string, number>;
  /**
   * Host turnarounds and their mean real time, µs: from the module handing a reply to the pty to the
   * host's next bytes arriving (the host's wake-up, its own work and socat both ways). The bound
   * leaves this out; every tool pays it once per turnaround.
   */
  turnarounds: number;
  turnaroundUs: number;
}

export interface SimModule {
  /** The host tools' end of the line. */
  readonly port: string;
  readonly banner: string;
  /** The statistics once the simulator has written its last command's (they trail it by < 1 ms). */
  settledCounters(): Promise<SimCounters>;
  /** Resets the module into a fresh bootloader waiting for 0x7F (SIGUSR2; its flash is kept). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function costBetween(before: SimCounters, after: SimCounters): RunCost {
  const commands: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.commands)) {
    const d = n - (before.commands[op] ?? 0);
    if (d > 0) commands[op] = d;
  }
  const wireMs = after.wireRxMs - before.wireRxMs + (after.wireTxMs - before.wireTxMs);
  const flashBusyMs = after.flashBusyMs - before.flashBusyMs;
  const turnarounds = after.hostTurnarounds - before.hostTurnarounds;
  return {
    bytesIn: after.bytesReceived - before.bytesReceived,
    bytesOut: after.bytesSent - before.bytesSent,
    wireMs,
    flashBusyMs,
    boundMs: wireMs + flashBusyMs,
    unitsErased: after.unitsErased - before.unitsErased,
    massErases: after.massErases - before.massErases,
    bytesProgrammed: after.bytesProgrammed - before.bytesProgrammed,
    turnarounds,
    turnaroundUs:
      turnarounds > 0 ? ((after.hostTurnaroundMs - before.hostTurnaroundMs) * 1000) / turnarounds : 0,
    commands,
  };
}

export async function startSim(options: {
  device: string;
  bootloaderVersion: number;
  baud: number;
  workDir: string;
  name: string;
}): Promise<SimModule> {
  const pty: PtyPair = await createPtyPair();
  const statsFile = join(options.workDir, `${options.name}.stats.json`);
  const args = [
    SUBFLASH_BIN,
    "sim",
    "--tty",
    pty.a,
    "--device",
    options.device,
    "--baud",
    String(options.baud),
    "--bootloader-version",
    `0x${options.bootloaderVersion.toString(16)}`,
    "--stats-file",
    statsFile,
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: SUBFLASH_ENV });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await pty.close();
  };

  let banner: string | undefined;
  for (const started = Date.now(); banner === undefined; await delay(20)) {
    banner = stdout.split("\n").find((line) => line.startsWith("simulating"));
    if (child.exitCode !== null) {
      await pty.close();
      throw new Error(`subflash sim exited with ${child.exitCode} before it was ready: ${stderr.trim()}`);
    }
    if (Date.now() - started > 20_000) {
      await stop();
      throw new Error(`subflash sim did not start within 20 s: ${stderr.trim()}`);
    }
  }

  const read = async (): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await readFile(statsFile, "utf8");
      } catch (error) {
        if (attempt > 50) throw error;
        await delay(20);
      }
    }
  };

  return {
    port: pty.b,
    banner,
    async settledCounters() {
      // The file is replaced atomically; two equal reads 40 ms apart mean the last command is in.
      let last = await read();
      for (;;) {
        await delay(40);
        const now = await read();
        if (now === last) return JSON.parse(now) as SimCounters;
        last = now;
      }
    },
    async reset() {
      child.kill("SIGUSR2");
      // The signal is handled within a few ms; nothing observable marks it, so give it ample time.
      await delay(100);
    },
    stop,
  };
}
