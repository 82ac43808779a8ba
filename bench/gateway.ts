/**
 * Gateway benchmark (issue 4): how well the engine uses separate buses. One release updates
 *   - 1 module (the reference),
 *   - 8 modules on 8 separate serial lines (updated in parallel),
 *   - 8 modules sharing one serial line (updated one at a time, as they must be),
 * each through the whole stack: operator publish → broker (embedded aedes) → gateway → simulated
 * STM32G071 A/B modules with wire and flash timing on → committed status back on the broker.
 * Target: 8 separate lines ≤ 1.3 × the single module. Prints; asserts nothing.
 *
 *   npm run bench:gateway [-- --baud 115200 --image-kib 16 --runs 1]
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { fleetBundle } from "../src/sim/world/fleet.js";
import type { FleetModule } from "../src/sim/world/fleet.js";
import { createWorld } from "../src/sim/world/world.js";
import { publishBundle } from "../src/mqtt/operator/operator.js";

const { values } = parseArgs({
  options: {
    baud: { type: "string", default: "115200" },
    "image-kib": { type: "string", default: "16" },
    runs: { type: "string", default: "1" },
  },
});
const baud = Number(values.baud);
const imageSize = Number(values["image-kib"]) * 1024;
const runs = Math.max(1, Number(values.runs));

const motor = (id: string): FleetModule => ({
  id,
  type: "motor-board",
  device: "g071",
  pid: 0x460,
  family: "STM32G0",
  layout: {
    kind: "ab",
    slotA: { address: 0x08004000, size: 0xe000 },
    slotB: { address: 0x08012000, size: 0xe000 },
    bootRecord: { copies: [0x08002000, 0x08002800] },
  },
  entry: { method: "app-command", send: "!boot\\n", settleMs: 5 },
});

/** Seconds from publishing the bundle to every module committed, as seen on the broker. */
async function measure(count: number, sharedLine: boolean): Promise<number> {
  const modules = Array.from({ length: count }, (_, i) => motor(`m${i + 1}`));
  const world = await createWorld({ modules, sharedLine, baud, timing: true, factorySize: 4096 });
  try {
    // One manifest entry per module type covers all eight modules of that type.
    const bundle = fleetBundle(
      {
        sequence: 1,
        release: "bench",
        gateways: [world.gateway],
        modules: { m1: { version: "2.0.0" } },
        imageSize,
        parallelism: 8,
      },
      world.key,
      modules,
    );
    const started = performance.now();
    await publishBundle(world.operator, { gateway: world.gateway }, bundle, world.prefix);
    await world.watcher.until(
      (view) => {
        const gw = view.gateway(world.gateway);
        return (
          gw?.status?.bundle?.sequence === 1 &&
          gw.status.bundle.state !== "running" &&
          [...gw.modules.values()].every((m) => m.state === "committed")
        );
      },
      600_000,
      `${count} module(s) committed`,
    );
    return (performance.now() - started) / 1000;
  } finally {
    await world.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const results: Array<{ label: string; seconds: number[] }> = [
  { label: "1 module", seconds: [] },
  { label: "8 modules, 8 separate lines", seconds: [] },
  { label: "8 modules, 1 shared line", seconds: [] },
];
process.stdout.write(
  `gateway benchmark: STM32G071 A/B modules, ${imageSize / 1024} KiB images, ${baud} baud, timing on, ${runs} run(s)\n` +
    `machine: ${cpus().length} CPU(s), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
);
for (let run = 0; run < runs; run++) {
  results[0]!.seconds.push(await measure(1, false));
  results[1]!.seconds.push(await measure(8, false));
  results[2]!.seconds.push(await measure(8, true));
}
const single = median(results[0]!.seconds);
for (const r of results) {
  const m = median(r.seconds);
  process.stdout.write(
    `  ${r.label.padEnd(30)} ${m.toFixed(2).padStart(7)} s   ${(m / single).toFixed(2)} × one module   (runs: ${r.seconds.map((s) => s.toFixed(2)).join(", ")})\n`,
  );
}
const ratio = median(results[1]!.seconds) / single;
process.stdout.write(
  `target: 8 separate lines ≤ 1.3 × one module → ${ratio.toFixed(2)} × ${ratio <= 1.3 ? "MET" : "MISSED"}\n`,
);
