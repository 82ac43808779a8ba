/**
 * Flash benchmark (issue 2): subflash against stm32flash on the same simulated module.
 *
 *   npm run bench:flash [-- --runs 3 --device g071 --baud 115200]
 *
 * For a module whose bootloader offers Get Checksum 0xA1 (v3.3) and one that does not (v3.1), and two
 * 64 KiB images (random bytes; firmware-like with a quarter of 0xFF gaps), it flashes several times
 * with `subflash flash --verify auto` and `stm32flash -w <img> -v`, alternating which tool goes first,
 * and prints every run, both medians, the ratio, and a PASS/MISS per target:
 * - ratio of whole-process medians, subflash / stm32flash: with 0xA1 ≤ 0.6 (random) / ≤ 0.5 (gapped),
 *   without ≤ 1.0 / ≤ 0.8;
 * - every subflash run's in-process time (port open → flash done: connect + flash) within 10 % of its
 *   lower bound: the wire time of the bytes that run sent and received plus the modelled flash-busy
 *   time, both read from the simulator's --stats-file before and after the run.
 * Fairness: one simulator process per module, timing on, warmed up with one untimed 8 KiB flash
 * by each tool, kept across runs and reset into its bootloader (SIGUSR2) before each; both tools erase the pages the image covers (32 on a G071)
 * before writing (the per-run erase counts are printed), both verify everything they wrote.
 * It is not a test: it always exits 0 once it has measured, with "targets met: x/y" as its last line.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveDevice } from "../src/targets/stm32/devices.js";
import { socatAvailable } from "../src/targets/transport/pty.js";
import { blankShare, gappedImage, randomImage } from "./lib/images.js";
import { median, percent, seconds, table, verdict } from "./lib/report.js";
import { costBetween, startSim, type RunCost, type SimModule } from "./lib/sim-process.js";
import { runStm32flash, runSubflash, stm32flashAvailable, type SubflashRun } from "./lib/tool-runs.js";

const BOUND_MARGIN = 0.1;
const WARM_UP_BYTES = 8 * 1024;

interface Case {
  label: string;
  version: number;
  /** Highest acceptable ratio subflash / stm32flash, per image. */
  targets: Record<ImageKey, number>;
}
type ImageKey = "random" | "gapped";

const CASES: Case[] = [
  { label: "with 0xA1", version: 0x33, targets: { random: 0.6, gapped: 0.5 } },
  { label: "without 0xA1", version: 0x31, targets: { random: 1.0, gapped: 0.8 } },
];

interface Outcome {
  label: string;
  image: ImageKey;
  subflashMs: number;
  stm32flashMs: number;
  ratio: number;
  ratioTarget: number;
  /** Median lower bound of subflash's runs over stm32flash's: what the bytes on the wire alone allow. */
  boundRatio: number;
  worstOverBound: number;
}

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    device: { type: "string", default: "g071" },
    baud: { type: "string", default: "115200" },
  },
});
const runs = Number(flags.runs);
const baud = Number(flags.baud);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got ${flags.runs}`);
if (!Number.isInteger(baud) || baud <= 0)
  throw new Error(`--baud must be a positive integer, got ${flags.baud}`);
const device = resolveDevice(flags.device);

if (!(await socatAvailable()))
  throw new Error(
    "socat is not installed: the benchmark joins the simulator and the tools with a socat pty pair",
  );
if (!(await stm32flashAvailable()))
  throw new Error("stm32flash is not installed: the benchmark compares against it (apt install stm32flash)");

const workDir = await mkdtemp(join(tmpdir(), "subflash-bench-"));
const images: Record<ImageKey, { path: string; bytes: Uint8Array }> = {
  random: { path: join(workDir, "random.bin"), bytes: randomImage() },
  gapped: { path: join(workDir, "gapped.bin"), bytes: gappedImage() },
};
for (const image of Object.values(images)) await writeFile(image.path, image.bytes);
// Warm-up image: one untimed flash by each tool on every new simulator, so that no timed run meets
// a simulator whose hot paths are not compiled yet or files not yet in the page cache.
const warmUpImage = join(workDir, "warm-up.bin");
await writeFile(warmUpImage, images.random.bytes.subarray(0, WARM_UP_BYTES));
const gaps = blankShare(images.gapped.bytes);

const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(" ");
console.log(
  `subflash flash benchmark: ${device.name} simulated by \`subflash sim\` (timing on) over a socat pty at ${baud} baud`,
);
console.log(
  `node ${process.version}, ${cpus().length} CPUs, load ${load}; ${runs} run(s) per tool, image and module`,
);
console.log(
  `images: random (64 KiB), gapped (64 KiB, ${(gaps.bytes * 100).toFixed(1)} % 0xFF in gaps, ${(gaps.blocks * 100).toFixed(1)} % of the 256-byte blocks blank)`,
);
console.log(
  "process: spawn → exit, both tools pay their start (subflash: Node + the built CLI, as installed); the ratio uses these medians",
);
console.log("in-process: subflash's port open → flash done (connect + flash); flash(): the flash call alone");
console.log(
  "bound: wire time of the bytes the run sent and received (11 bits a byte) + modelled flash-busy time (simulator stats)",
);
console.log(
  "turnarounds: times the host answered a reply, × their mean real time from the reply's handover to the pty to the host's next bytes (not in the bound)",
);
console.log(
  `each simulator gets one untimed ${WARM_UP_BYTES / 1024} KiB flash by each tool first; the module is reset before every run`,
);

const outcomes: Outcome[] = [];
const sims: SimModule[] = [];
try {
  for (const c of CASES) {
    const sim = await startSim({
      device: flags.device,
      bootloaderVersion: c.version,
      baud,
      workDir,
      name: `v${c.version.toString(16)}`,
    });
    sims.push(sim);
    for (const warmUp of [runSubflash, runStm32flash]) {
      await sim.reset();
      await warmUp(sim.port, warmUpImage, baud, workDir);
    }
    for (const key of ["random", "gapped"] as const) {
      outcomes.push(await benchCase(sim, c, key));
    }
    await sim.stop();
  }
} finally {
  await Promise.all(sims.map((s) => s.stop()));
  await rm(workDir, { recursive: true, force: true });
}

console.log(
  "\nsummary (ratio: whole-process medians subflash / stm32flash; floor: the same for the two tools' lower bounds, i.e. what the bytes " +
    "each put on the wire allow; vs bound: worst subflash in-process time over its lower bound)",
);
const rows: string[][] = [
  ["module", "image", "subflash", "stm32flash", "ratio", "target", "", "floor", "vs bound", "target", ""],
];
let met = 0;
for (const o of outcomes) {
  const ratioMet = o.ratio <= o.ratioTarget;
  const boundMet = o.worstOverBound <= BOUND_MARGIN;
  met += Number(ratioMet) + Number(boundMet);
  rows.push([
    o.label,
    o.image,
    seconds(o.subflashMs),
    seconds(o.stm32flashMs),
    o.ratio.toFixed(3),
    `≤ ${o.ratioTarget.toFixed(1)}`,
    verdict(ratioMet),
    o.boundRatio.toFixed(3),
    percent(o.worstOverBound),
    `≤ ${percent(BOUND_MARGIN)}`,
    verdict(boundMet),
  ]);
}
console.log(table(rows));
console.log(`targets met: ${met}/${outcomes.length * 2}`);

/** "1548 × 412 µs": host turnarounds and their mean, as the simulator saw them. */
function turnaroundText(cost: RunCost): string {
  return `${cost.turnarounds} × ${cost.turnaroundUs.toFixed(0)} µs`;
}

async function benchCase(sim: SimModule, c: Case, key: ImageKey): Promise<Outcome> {
  const label = `${c.label} (v${c.version >> 4}.${c.version & 0xf})`;
  console.log(`\n${label}, ${key} image`);
  const rows: string[][] = [
    [
      "run",
      "tool",
      "process",
      "in-process",
      "flash()",
      "bound",
      "vs bound",
      "erased",
      "programmed",
      "turnarounds",
      "verify",
    ],
  ];
  const sub: Array<{ run: SubflashRun; cost: RunCost }> = [];
  const ref: Array<{ processMs: number; cost: RunCost }> = [];
  const image = images[key].path;
  for (let i = 1; i <= runs; i++) {
    // Alternate which tool goes first, so a drift in machine load does not favour one of them.
    const order = i % 2 === 1 ? (["subflash", "stm32flash"] as const) : (["stm32flash", "subflash"] as const);
    for (const tool of order) {
      // Each run meets a freshly reset bootloader (as after an entry sequence), not one the previous
      // tool left synchronised, which would cost either tool an activation timeout.
      await sim.reset();
      const before = await sim.settledCounters();
      if (tool === "subflash") {
        // The same image is flashed run after run: --diff off keeps every run a full erase + write.
        const run = await runSubflash(sim.port, image, baud, workDir, ["--diff", "off"]);
        const cost = costBetween(before, await sim.settledCounters());
        sub.push({ run, cost });
        rows.push([
          String(i),
          tool,
          seconds(run.processMs),
          seconds(run.inProcessMs),
          seconds(run.flashMs),
          seconds(cost.boundMs),
          percent(run.inProcessMs / cost.boundMs - 1),
          String(cost.unitsErased),
          String(cost.bytesProgrammed),
          turnaroundText(cost),
          `${run.verifiedBy}, ${run.blocksWritten} blocks written, ${run.blocksSkipped} skipped`,
        ]);
      } else {
        const run = await runStm32flash(sim.port, image, baud, workDir);
        const cost = costBetween(before, await sim.settledCounters());
        ref.push({ processMs: run.processMs, cost });
        const reads = cost.commands["0x11"] ?? 0;
        const crcs = cost.commands["0xA1"] ?? cost.commands["0xa1"] ?? 0;
        rows.push([
          String(i),
          tool,
          seconds(run.processMs),
          "-",
          "-",
          seconds(cost.boundMs),
          `${percent(run.processMs / cost.boundMs - 1)} (process)`,
          String(cost.unitsErased),
          String(cost.bytesProgrammed),
          turnaroundText(cost),
          crcs > 0 ? `crc (${crcs} Get Checksum)` : `read-back (${reads} Read Memory)`,
        ]);
      }
    }
  }
  console.log(table(rows));
  const subflashMs = median(sub.map((s) => s.run.processMs));
  const stm32flashMs = median(ref.map((r) => r.processMs));
  const ratio = subflashMs / stm32flashMs;
  const worstOverBound = Math.max(...sub.map((s) => s.run.inProcessMs / s.cost.boundMs - 1));
  const target = c.targets[key];
  console.log(
    `  medians: subflash ${seconds(subflashMs)} (in-process ${seconds(median(sub.map((s) => s.run.inProcessMs)))}, ` +
      `connect ${median(sub.map((s) => s.run.connectMs)).toFixed(0)} ms), stm32flash ${seconds(stm32flashMs)}; ` +
      `ratio ${ratio.toFixed(3)} (target ≤ ${target.toFixed(1)}): ${verdict(ratio <= target)}; ` +
      `worst subflash run vs its bound ${percent(worstOverBound)} (target ≤ ${percent(BOUND_MARGIN)}): ${verdict(worstOverBound <= BOUND_MARGIN)}`,
  );
  const subTurn = median(sub.map((s) => s.cost.turnaroundUs));
  const refTurn = median(ref.map((r) => r.cost.turnaroundUs));
  const turns = median(sub.map((s) => s.cost.turnarounds));
  console.log(
    `  host turnaround (the simulator's view: reply handed to the pty → the host's next bytes): subflash ${subTurn.toFixed(0)} µs, ` +
      `stm32flash ${refTurn.toFixed(0)} µs; over subflash's ${turns} turnarounds the difference is ${(((subTurn - refTurn) * turns) / 1000).toFixed(0)} ms`,
  );
  const boundRatio = median(sub.map((s) => s.cost.boundMs)) / median(ref.map((r) => r.cost.boundMs));
  return {
    label,
    image: key,
    subflashMs,
    stm32flashMs,
    ratio,
    ratioTarget: target,
    boundRatio,
    worstOverBound,
  };
}
