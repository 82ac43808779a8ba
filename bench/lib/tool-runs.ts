/**
 * One timed flash by each tool, as a spawned process (both pay their process start):
 * - `subflash flash --verify auto --json`, as a user would run it: besides the process time, the
 *   JSON result gives the flash() call's own time and bytes, and its `timing` the in-process time
 *   from opening the port to the flash being done (connect + flash) and the connect alone. (Until
 *   stop 19 the bench took these from `--log-level debug` timestamps, which loaded pino, ~25 ms, and
 *   wrote ~260 log lines into every timed run.)
 * - `stm32flash -b <baud> -m 8n1 -w <image> -v`: process time only (8n1: a pty carries no parity).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const SUBFLASH_BIN = fileURLToPath(new URL("../../bin/subflash.mjs", import.meta.url));

/**
 * The benches time `subflash` as it is installed: the built CLI bundle (`npm run build`, run once
 * here so the figures never come from a stale build), not the TypeScript sources through tsx, whose
 * compile-on-load adds about 0.3 s to every process start in a checkout.
 */
export const SUBFLASH_ENV: NodeJS.ProcessEnv = { ...process.env, SUBFLASH_DIST: "1" };
const build = spawnSync("npm", ["run", "--silent", "build"], {
  cwd: fileURLToPath(new URL("../..", import.meta.url)),
  stdio: ["ignore", "ignore", "inherit"],
});
if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status ?? build.signal})`);

export interface SubflashRun {
  /** Spawn to exit, ms. */
  processMs: number;
  /** Port opening to flash done (connect + flash): the result's `timing.sessionMs` (1 ms resolution). */
  inProcessMs: number;
  /** The flash() call alone (the result's elapsedMs). */
  flashMs: number;
  connectMs: number;
  verifiedBy: string;
  blocksWritten: number;
  blocksSkipped: number;
  /** Bytes the flash() call put on the wire and got back (connect not included). */
  wire: { sent: number; received: number };
  /** Differential flashing: units covered, checked, skipped, erased, written (absent on older builds). */
  units?: {
    covered: number;
    checked: number;
    skipped: number;
    erased: number;
    written: number;
    checks: number;
  };
  /** The flasher's modelled time of a full write of the image. */
  fullEstimateMs?: number;
}

export interface Stm32flashRun {
  processMs: number;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  processMs: number;
}

/**
 * Runs one tool with its output going to files, not pipes: a pipe would wake this process for every
 * progress line while the run is timed, taking CPU from the tool, socat and the simulator.
 */
async function run(
  command: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Finished> {
  const outPath = join(logDir, "run.stdout");
  const errPath = join(logDir, "run.stderr");
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  let finished: { code: number | null; signal: NodeJS.Signals | null; processMs: number };
  try {
    finished = await new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn(command, args, { stdio: ["ignore", out, err], env });
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal, processMs: performance.now() - started }));
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  return { ...finished, stdout: await readFile(outPath, "utf8"), stderr: await readFile(errPath, "utf8") };
}

const tail = (text: string): string => text.trim().split("\n").slice(-5).join("\n").slice(-1500);

function jsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a JSON line (a warning printed by Node, say)
    }
  }
  return out;
}

export async function runSubflash(
  port: string,
  image: string,
  baud: number,
  logDir: string,
  /** More `subflash flash` options, e.g. ["--diff", "off"]. */
  extra: readonly string[] = [],
): Promise<SubflashRun> {
  const args = [
    SUBFLASH_BIN,
    "flash",
    "--port",
    port,
    "--parity",
    "none",
    "--baud",
    String(baud),
    "--verify",
    "auto",
    image,
    "--json",
    ...extra,
  ];
  const done = await run(process.execPath, args, logDir, SUBFLASH_ENV);
  const result = jsonLines(done.stdout).find((line) => line.event === "result");
  if (done.code !== 0 || !result || result.ok !== true) {
    throw new Error(
      `subflash flash failed (exit ${done.code ?? done.signal}): ${tail(done.stdout)}\n${tail(done.stderr)}`,
    );
  }
  const timing = result.timing as { connectMs?: unknown; sessionMs?: unknown } | undefined;
  if (typeof timing?.connectMs !== "number" || typeof timing.sessionMs !== "number")
    throw new Error(`subflash flash gave no timing in its result: ${tail(done.stdout)}`);
  const stats = result.stats as {
    elapsedMs: number;
    verifiedBy: string;
    blocksWritten: number;
    blocksSkipped: number;
    wire: { sent: number; received: number };
    units?: SubflashRun["units"];
    fullEstimateMs?: number;
  };
  return {
    processMs: done.processMs,
    inProcessMs: timing.sessionMs,
    flashMs: stats.elapsedMs,
    connectMs: timing.connectMs,
    verifiedBy: stats.verifiedBy,
    blocksWritten: stats.blocksWritten,
    blocksSkipped: stats.blocksSkipped,
    wire: stats.wire,
    ...(stats.units ? { units: stats.units } : {}),
    ...(stats.fullEstimateMs !== undefined ? { fullEstimateMs: stats.fullEstimateMs } : {}),
  };
}

export async function runStm32flash(
  port: string,
  image: string,
  baud: number,
  logDir: string,
): Promise<Stm32flashRun> {
  const done = await run("stm32flash", ["-b", String(baud), "-m", "8n1", "-w", image, "-v", port], logDir);
  if (done.code !== 0) {
    throw new Error(
      `stm32flash failed (exit ${done.code ?? done.signal}): ${tail(done.stdout)}\n${tail(done.stderr)}`,
    );
  }
  return { processMs: done.processMs };
}

/** True when `stm32flash` can be run. */
export function stm32flashAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("stm32flash", ["-h"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", () => resolve(true));
  });
}
