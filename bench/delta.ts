/**
 * Differential flashing benchmark (issue 15): what `subflash flash --diff auto` saves, measured on the
 * simulator with timing on (G071, bootloader v3.3 with Get Checksum 0xA1) through the CLI over a
 * socat pty, as bench/flash.ts does, with every ratio taken against a peer measured in the same run.
 *
 *   npm run bench:delta [-- --runs 3 --baud 115200]
 *
 * 1. identical re-flash (--diff auto) vs a full flash (--diff off) of the same 64 KiB image, whole
 *    process included: target ≤ 0.10×.
 * 2. release pairs built from real compiled firmware (bench/firmware, arm-none-eabi-gcc): the previous
 *    release on the module, the next one flashed with --diff auto, vs a full flash of the next one:
 *    units written must equal units that differ (host-side page compare), and the in-process time
 *    must be within 10 % of the run's wire + flash bound (simulator stats: every byte the run put on
 *    the wire, checks and proof included, plus the modelled flash-busy time).
 * 3. a full flash: in-process and whole process vs its wire + flash bound (target ≤ 1.10× whole
 *    process), and vs stm32flash -w -v; also --diff auto on an image that differs everywhere vs --diff off.
 * 4. an update killed (SIGKILL) half-way, then resumed with --diff auto, vs an uninterrupted one.
 * It is not a test: it exits 0 once it has measured, with "targets met: x/y" as its last line.
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { socatAvailable } from "../src/targets/transport/pty.js";
import { randomImage } from "./lib/images.js";
import { median, percent, seconds, table, verdict } from "./lib/report.js";
import { costBetween, startSim, type RunCost, type SimModule } from "./lib/sim-process.js";
import {
  SUBFLASH_BIN,
  SUBFLASH_ENV,
  runStm32flash,
  runSubflash,
  stm32flashAvailable,
  type SubflashRun,
} from "./lib/tool-runs.js";

const PAGE = 2048; // G071 erase unit
const { values: flags } = parseArgs({
  options: { runs: { type: "string", default: "3" }, baud: { type: "string", default: "115200" } },
});
const runs = Number(flags.runs);
const baud = Number(flags.baud);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${flags.runs}`);
if (!(await socatAvailable())) throw new Error("socat is not installed (apt install socat)");
const haveStm32flash = await stm32flashAvailable();

const workDir = await mkdtemp(join(tmpdir(), "subflash-delta-"));
const results: Array<{ what: string; figure: string; target: string; met: boolean }> = [];
const record = (what: string, figure: string, target: string, met: boolean): void => {
  results.push({ what, figure, target, met });
};

console.log(
  `subflash differential flashing benchmark: STM32G071 (v3.3, Get Checksum) simulated with timing on, socat pty at ${baud} baud`,
);
console.log(
  `node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
    .map((n) => n.toFixed(2))
    .join(" ")}; ${runs} run(s) per measurement, medians`,
);

/** Builds the firmware releases; undefined (and says so) when arm-none-eabi-gcc is missing. */
function buildFirmware(): Record<string, string> | undefined {
  const script = fileURLToPath(new URL("./firmware/build.sh", import.meta.url));
  const out = join(workDir, "fw");
  try {
    execFileSync("sh", [script, out], { stdio: "pipe" });
  } catch (error) {
    console.log(`arm-none-eabi-gcc build failed or missing, release pairs skipped: ${String(error)}`);
    return undefined;
  }
  return Object.fromEntries(["base", "version", "oneline", "shifted"].map((n) => [n, join(out, `${n}.bin`)]));
}

/** Erase units (2 KiB pages from the flash start) whose content differs once each image is 0xFF-padded to whole units. */
function differingUnits(before: Uint8Array, after: Uint8Array): number {
  const units = Math.ceil(Math.max(before.length, after.length) / PAGE);
  const pad = (b: Uint8Array): Uint8Array => {
    const out = new Uint8Array(units * PAGE).fill(0xff);
    out.set(b);
    return out;
  };
  const a = pad(before);
  const b = pad(after);
  let n = 0;
  for (let u = 0; u < units; u++) {
    for (let i = u * PAGE; i < (u + 1) * PAGE; i++)
      if (a[i] !== b[i]) {
        n++;
        break;
      }
  }
  return n;
}

async function timed(
  sim: SimModule,
  image: string,
  extra: string[],
): Promise<{ run: SubflashRun; cost: RunCost }> {
  await sim.reset();
  const before = await sim.settledCounters();
  const run = await runSubflash(sim.port, image, baud, workDir, extra);
  return { run, cost: costBetween(before, await sim.settledCounters()) };
}

const unitsText = (r: SubflashRun): string =>
  r.units
    ? `${r.units.covered} covered, ${r.units.skipped} skipped, ${r.units.erased} erased, ${r.units.written} written, ${r.units.checks} checks`
    : "-";

const sim = await startSim({ device: "g071", bootloaderVersion: 0x33, baud, workDir, name: "delta" });
try {
  const image64 = join(workDir, "random.bin");
  const other64 = join(workDir, "other.bin");
  await writeFile(image64, randomImage(1));
  await writeFile(other64, randomImage(7));
  // Warm-up: one untimed flash, so no timed run meets cold code paths.
  await timed(sim, other64, ["--diff", "off"]);

  // 1. Identical re-flash vs full flash of the same image.
  console.log("\n1. identical re-flash vs full flash (64 KiB random image)");
  const rows1: string[][] = [["run", "mode", "process", "in-process", "bound", "units", "wire bytes"]];
  const full: number[] = [];
  const same: number[] = [];
  const fullIn: number[] = [];
  const sameIn: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const f = await timed(sim, image64, ["--diff", "off"]);
    const s = await timed(sim, image64, ["--diff", "auto"]);
    full.push(f.run.processMs);
    same.push(s.run.processMs);
    fullIn.push(f.run.inProcessMs);
    sameIn.push(s.run.inProcessMs);
    for (const [mode, r] of [
      ["full (--diff off)", f],
      ["identical (--diff auto)", s],
    ] as const)
      rows1.push([
        String(i),
        mode,
        seconds(r.run.processMs),
        seconds(r.run.inProcessMs),
        seconds(r.cost.boundMs),
        unitsText(r.run),
        String(r.cost.bytesIn + r.cost.bytesOut),
      ]);
  }
  console.log(table(rows1));
  const ratio1 = median(same) / median(full);
  console.log(
    `  medians: identical ${seconds(median(same))}, full ${seconds(median(full))}; ratio ${ratio1.toFixed(3)} (target ≤ 0.10, process start included)`,
  );
  record("identical re-flash / full flash (process)", ratio1.toFixed(3), "≤ 0.10", ratio1 <= 0.1);
  const inRatio1 = median(sameIn) / median(fullIn);
  console.log(
    `  in-process (port open → flashed): identical ${seconds(median(sameIn))}, full ${seconds(median(fullIn))}; ratio ${inRatio1.toFixed(3)}`,
  );
  record("identical re-flash / full flash (in-process)", inRatio1.toFixed(3), "≤ 0.10", inRatio1 <= 0.1);

  // 2. Release pairs from real compiled firmware.
  const fw = buildFirmware();
  if (fw) {
    console.log(
      "\n2. release pairs (bench/firmware/app.c built with arm-none-eabi-gcc -Os for Cortex-M0+): previous on the module, next flashed",
    );
    const base = new Uint8Array(await readFile(fw.base!));
    const rows2: string[][] = [
      [
        "pair",
        "bytes",
        "differ",
        "written",
        "delta proc",
        "delta in-proc",
        "bound",
        "vs bound",
        "full proc",
        "ratio",
      ],
    ];
    for (const [name, label] of [
      ["version", "version-only rebuild"],
      ["oneline", "one-line constant change"],
      ["shifted", "function added early (shift)"],
    ] as const) {
      const next = new Uint8Array(await readFile(fw[name]!));
      const differ = differingUnits(base, next);
      const deltas: Array<{ run: SubflashRun; cost: RunCost }> = [];
      const fulls: number[] = [];
      for (let i = 1; i <= runs; i++) {
        await timed(sim, fw.base!, ["--diff", "off"]); // the previous release on the module
        deltas.push(await timed(sim, fw[name]!, ["--diff", "auto"]));
        await timed(sim, fw.base!, ["--diff", "off"]);
        fulls.push((await timed(sim, fw[name]!, ["--diff", "off"])).run.processMs);
      }
      const written = deltas.map((d) => d.run.units?.written ?? -1);
      const overBound = Math.max(...deltas.map((d) => d.run.inProcessMs / d.cost.boundMs - 1));
      const deltaMs = median(deltas.map((d) => d.run.processMs));
      const fullMs = median(fulls);
      rows2.push([
        label,
        String(next.length),
        String(differ),
        written.join("/"),
        seconds(deltaMs),
        seconds(median(deltas.map((d) => d.run.inProcessMs))),
        seconds(median(deltas.map((d) => d.cost.boundMs))),
        percent(overBound),
        seconds(fullMs),
        (deltaMs / fullMs).toFixed(3),
      ]);
      record(
        `${label}: units written = units that differ`,
        `${written.join("/")} vs ${differ}`,
        "equal",
        written.every((w) => w === differ),
      );
      record(`${label}: in-process vs wire + flash bound`, percent(overBound), "≤ +10.0 %", overBound <= 0.1);
    }
    console.log(table(rows2));
    console.log(
      "  differ: 2 KiB units whose 0xFF-padded content differs (host-side compare); written: units the flasher wrote, per run;",
    );
    console.log(
      "  bound: wire time of every byte of the delta run (connect, proof, checks, writes, verify) + modelled flash-busy time",
    );
  }

  // 3. Full flash vs its bound and vs stm32flash; --diff auto on a fully different image.
  console.log(
    "\n3. full flash of 64 KiB: vs the wire + flash bound, vs stm32flash -w -v, and the cost of the checks",
  );
  const rows3: string[][] = [["run", "tool", "process", "in-process", "bound", "proc/bound", "units"]];
  const fullRuns: Array<{ run: SubflashRun; cost: RunCost }> = [];
  const autoChanged: number[] = [];
  const offChanged: number[] = [];
  const ref: number[] = [];
  for (let i = 1; i <= runs; i++) {
    await timed(sim, other64, ["--diff", "off"]);
    const f = await timed(sim, image64, ["--diff", "off"]);
    fullRuns.push(f);
    offChanged.push(f.run.processMs);
    rows3.push([
      String(i),
      "subflash --diff off",
      seconds(f.run.processMs),
      seconds(f.run.inProcessMs),
      seconds(f.cost.boundMs),
      (f.run.processMs / f.cost.boundMs).toFixed(3),
      unitsText(f.run),
    ]);
    await timed(sim, other64, ["--diff", "off"]);
    const a = await timed(sim, image64, ["--diff", "auto"]);
    autoChanged.push(a.run.processMs);
    rows3.push([
      String(i),
      "subflash --diff auto (all differ)",
      seconds(a.run.processMs),
      seconds(a.run.inProcessMs),
      seconds(a.cost.boundMs),
      (a.run.processMs / a.cost.boundMs).toFixed(3),
      unitsText(a.run),
    ]);
    if (haveStm32flash) {
      await sim.reset();
      const before = await sim.settledCounters();
      const r = await runStm32flash(sim.port, image64, baud, workDir);
      const cost = costBetween(before, await sim.settledCounters());
      ref.push(r.processMs);
      rows3.push([
        String(i),
        "stm32flash -w -v",
        seconds(r.processMs),
        "-",
        seconds(cost.boundMs),
        (r.processMs / cost.boundMs).toFixed(3),
        "-",
      ]);
    }
  }
  console.log(table(rows3));
  const procBound = median(fullRuns.map((f) => f.run.processMs / f.cost.boundMs));
  const inBound = median(fullRuns.map((f) => f.run.inProcessMs / f.cost.boundMs));
  console.log(
    `  medians: full flash ${seconds(median(offChanged))} = ${procBound.toFixed(3)}× its bound (in-process ${inBound.toFixed(3)}×)` +
      (ref.length
        ? `; stm32flash ${seconds(median(ref))}, ratio ${(median(offChanged) / median(ref)).toFixed(3)}`
        : "") +
      `; --diff auto where every unit differs ${seconds(median(autoChanged))} (${(median(autoChanged) / median(offChanged)).toFixed(3)}× --diff off)`,
  );
  record("full flash process / bound", procBound.toFixed(3), "≤ 1.10", procBound <= 1.1);
  record("full flash in-process / bound", inBound.toFixed(3), "≤ 1.10", inBound <= 1.1);
  if (ref.length) {
    const r = median(offChanged) / median(ref);
    record("full flash / stm32flash -w -v (process)", r.toFixed(3), "< 1.00", r < 1);
  }
  const overhead = median(autoChanged) / median(offChanged);
  record("--diff auto / --diff off when every unit differs", overhead.toFixed(3), "≤ 1.05", overhead <= 1.05);

  // 4. Interrupted then resumed vs uninterrupted.
  console.log(
    "\n4. an update killed half-way (SIGKILL), then resumed with --diff auto, vs an uninterrupted one",
  );
  const rows4: string[][] = [
    ["run", "uninterrupted", "killed at", "resume", "resume units", "killed + resume"],
  ];
  const resumeRatios: number[] = [];
  for (let i = 1; i <= runs; i++) {
    await timed(sim, other64, ["--diff", "off"]);
    const whole = await timed(sim, image64, ["--diff", "auto"]);
    await timed(sim, other64, ["--diff", "off"]);
    const killAt = whole.run.processMs / 2;
    await sim.reset();
    await killedRun(sim.port, image64, killAt);
    const resumed = await timed(sim, image64, ["--diff", "auto"]);
    resumeRatios.push((killAt + resumed.run.processMs) / whole.run.processMs);
    rows4.push([
      String(i),
      seconds(whole.run.processMs),
      seconds(killAt),
      seconds(resumed.run.processMs),
      unitsText(resumed.run),
      `${seconds(killAt + resumed.run.processMs)} (${((killAt + resumed.run.processMs) / whole.run.processMs).toFixed(3)}×)`,
    ]);
  }
  console.log(table(rows4));
  const rr = median(resumeRatios);
  console.log(
    `  median (killed part + resume) / uninterrupted: ${rr.toFixed(3)} (a restart from scratch would be 1.5×)`,
  );
  record("killed at 50 % + resume / uninterrupted", rr.toFixed(3), "≤ 1.25", rr <= 1.25);
} finally {
  await sim.stop();
  await rm(workDir, { recursive: true, force: true });
}

console.log("\nsummary");
console.log(
  table([
    ["measure", "figure", "target", ""],
    ...results.map((r) => [r.what, r.figure, r.target, verdict(r.met)]),
  ]),
);
console.log(`targets met: ${results.filter((r) => r.met).length}/${results.length}`);

/** Starts `subflash flash` and SIGKILLs it after `ms`, as a daemon killed mid-write. */
async function killedRun(port: string, image: string, ms: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [SUBFLASH_BIN, "flash", "--port", port, "--parity", "none", "--baud", String(baud), image, "--json"],
    { stdio: "ignore", env: SUBFLASH_ENV },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await Promise.race([delay(ms), exited]);
  if (child.exitCode === null) child.kill("SIGKILL");
  await exited;
}
