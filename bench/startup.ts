/**
 * Start-up benchmark (issue 9): how long the INSTALLED `subflash` takes to start, against
 * stm32flash's own start-up on the same pseudo-terminal in the same run.
 *
 *   - stm32flash:        spawn → its first byte (0x7F) on the port (the reference),
 *   - subflash info:     spawn → its first byte on the port (`info --port <pty> --parity none`),
 *   - subflash --version: spawn → exit,
 *   - node -e 0:         spawn → exit (what any Node program pays; context only).
 *
 * The bench holds the other end of a socat pty pair and answers nothing: each tool is killed once
 * its first byte arrives. Tools run in turn, round after round, so drift hits all alike; figures are
 * medians, each ratio is the median of the per-round ratios to stm32flash. Target: subflash --version
 * and subflash info ≤ 0.3 s from the installed package. Prints; asserts nothing.
 *
 *   npm run bench:startup [-- --runs 11] [-- --prefix <dir>]
 *
 * Without --prefix the bench builds the tarball (npm pack runs the build) and installs it with
 * `npm install -g --prefix <tmp>`; with --prefix it times the `subflash` already installed there.
 */
import { spawn, spawnSync } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ReadStream } from "node:tty";
import { parseArgs } from "node:util";
import { createPtyPair } from "../src/targets/transport/pty.js";
import { median, table, verdict } from "./lib/report.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "11" },
    prefix: { type: "string" },
  },
});
const runs = Math.max(1, Number(values.runs));
const TARGET_MS = 300;
const ms = (value: number): string => `${value.toFixed(0)} ms`;

if (spawnSync("stm32flash", ["-h"], { stdio: "ignore" }).error)
  throw new Error("stm32flash is not installed: the benchmark compares against it (apt install stm32flash)");

const root = resolve(import.meta.dirname, "..");
const work = await mkdtemp(join(tmpdir(), "subflash-startup-"));
const prefix = values.prefix ? resolve(values.prefix) : await installPackage(work);
const bin = join(prefix, "bin", "subflash");
const pair = await createPtyPair();
const hostPort = pair.a;
const fd = openSync(pair.b, "r+");
const module = new ReadStream(fd);
let onByte: (() => void) | null = null;
module.on("data", () => {
  onByte?.();
  onByte = null;
});

/** Spawns `command` and resolves with the ms from spawn to its first byte on the module's end. */
function toFirstByte(command: string, args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: "ignore" });
    const start = performance.now();
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`${command} ${args.join(" ")}: no byte on the port within 10 s`));
    }, 10_000);
    onByte = () => {
      const ms = performance.now() - start;
      clearTimeout(timer);
      child.kill("SIGKILL");
      child.once("exit", () => setTimeout(() => done(ms), 50)); // let the line go quiet
    };
    child.once("error", fail);
  });
}

/** Spawns `command` and resolves with the ms from spawn to exit (output discarded). */
function toExit(command: string, args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: "ignore" });
    const start = performance.now();
    child.once("exit", (code) =>
      code === 0 ? done(performance.now() - start) : fail(new Error(`${command} exited ${code}`)),
    );
    child.once("error", fail);
  });
}

const tools = {
  stm32flash: () => toFirstByte("stm32flash", ["-b", "115200", "-m", "8n1", hostPort]),
  "subflash info": () => toFirstByte(bin, ["info", "--port", hostPort, "--parity", "none"]),
  "subflash --version": () => toExit(bin, ["--version"]),
  "node -e 0": () => toExit(process.execPath, ["-e", "0"]),
} as const;
type Tool = keyof typeof tools;
const names = Object.keys(tools) as Tool[];

console.log(
  `start-up of the installed subflash (${bin}) against stm32flash on ${pair.devices[0]}; ` +
    `${runs} rounds after one warm-up; Node ${process.version}, ${cpus().length} CPU(s), load ${loadavg()[0]!.toFixed(2)}`,
);
const times: Record<Tool, number[]> = Object.fromEntries(names.map((n) => [n, []])) as never;
try {
  for (const name of names) await tools[name](); // warm-up: page cache, socat
  for (let round = 0; round < runs; round++) {
    // Rotate the order so that no tool always runs right after the same one.
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) times[name].push(await tools[name]());
  }
} finally {
  module.destroy();
  await pair.close();
}

const ratios = (name: Tool): number[] => times[name].map((ms, i) => ms / times.stm32flash[i]!);
const rows = names.map((name) => {
  const t = times[name];
  const med = median(t);
  const isSubflash = name.startsWith("subflash");
  return [
    name,
    ms(med),
    `${Math.min(...t).toFixed(0)}–${Math.max(...t).toFixed(0)} ms`,
    name === "stm32flash" ? "1.00" : `${median(ratios(name)).toFixed(2)}`,
    isSubflash ? `≤ ${ms(TARGET_MS)}` : "",
    isSubflash ? verdict(med <= TARGET_MS) : "",
  ];
});
console.log(
  table([["command", "median", "min–max", "ratio to stm32flash", "target", ""], ...rows.map((r) => [...r])]),
);
console.log(
  "  stm32flash and subflash info: spawn → first byte on the port; --version and node -e 0: spawn → exit",
);

await rm(work, { recursive: true, force: true });

/** npm pack (prepack builds dist/) and npm install -g into a temporary prefix; returns the prefix. */
async function installPackage(dir: string): Promise<string> {
  console.log(`building and installing the package into ${dir}/prefix …`);
  const npm = (args: string[], cwd: string): void => {
    const r = spawnSync("npm", args, { cwd, stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error(`npm ${args.join(" ")} failed (${r.status})`);
  };
  npm(["pack", "--silent", "--pack-destination", dir], root);
  const tarball = (await readdir(dir)).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack made no tarball");
  npm(["install", "-g", "--no-audit", "--no-fund", "--prefix", join(dir, "prefix"), join(dir, tarball)], dir);
  return join(dir, "prefix");
}
