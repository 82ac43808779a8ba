/**
 * How long flashing 64 KiB over I2C at 400 kHz takes in the simulator with its timing model on,
 * against the lower bound the model allows: the wire time of every transaction the exchange needs
 * (11 + 9n bit times each, BUSY polls beyond the first not counted) plus the device's flash work
 * (erase and programming at the device table's typical times). Target: within 15 % of the bound.
 * Run with `npm run bench:i2c`. Prints; asserts nothing.
 */
import os from "node:os";
import { createSimI2cBus, createSimulatedModule } from "../src/sim/module/index.js";
import { Bootloader } from "../src/targets/stm32/bootloader.js";
import { Flasher } from "../src/targets/stm32/flasher.js";
import type { VerifyMode } from "../src/targets/stm32/flash-types.js";
import type { FirmwareImage } from "../src/targets/image/image.js";

const KiB = 1024;
const SIZE = 64 * KiB;
const CLOCK_HZ = 400_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function firmware(length: number): FirmwareImage {
  const data = new Uint8Array(length);
  let x = 0x12345678;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = (x >>> 16) & 0xff;
    if (data[i] === 0xff) data[i] = 0x5a; // no blank blocks: every block is written
  }
  return { format: "bin", source: "bench-64k.bin", segments: [{ address: 0x08000000, data }] };
}

interface Run {
  elapsedMs: number;
  boundMs: number;
  wireMs: number;
  flashMs: number;
  transactions: number;
  busyPolls: number;
  stretchMs: number;
  verifiedBy: string;
}

async function once(i2cVersion: number, verify: VerifyMode): Promise<Run> {
  const bus = createSimI2cBus({ clockHz: CLOCK_HZ, timing: true });
  const module = createSimulatedModule({ device: "g071", i2cVersion, timing: true });
  bus.attach(module);
  try {
    const bl = await Bootloader.connect(bus.openTransport(0x51));
    const before = { ...bus.stats };
    const flashBefore = module.stats.flashBusyMs;
    const started = performance.now();
    const result = await new Flasher(bl).flash(firmware(SIZE), { verify });
    const elapsedMs = performance.now() - started;
    if (!result.ok) throw result.error;
    const stats = bus.stats;
    const wireMs = stats.wireMs - before.wireMs;
    const stretchMs = stats.stretchMs - before.stretchMs;
    const busyWireMs = stats.busyPollWireMs - before.busyPollWireMs;
    const flashMs = module.stats.flashBusyMs - flashBefore;
    // The bus is busy for the wire time of the needed transactions, the device for its flash work;
    // neither overlaps the other in these protocols (BUSY polls and stretching fill the flash work).
    const neededWireMs = wireMs - stretchMs - busyWireMs;
    return {
      elapsedMs,
      boundMs: neededWireMs + flashMs,
      wireMs: neededWireMs,
      flashMs,
      transactions: stats.transactions - before.transactions,
      busyPolls: stats.busyPolls - before.busyPolls,
      stretchMs,
      verifiedBy: result.stats.verifiedBy,
    };
  } finally {
    bus.close();
    await module.close();
  }
}

async function scenario(label: string, i2cVersion: number, verify: VerifyMode): Promise<void> {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(i2cVersion, verify));
  runs.sort((a, b) => a.elapsedMs / a.boundMs - b.elapsedMs / b.boundMs);
  const median = runs[Math.floor(runs.length / 2)]!;
  const best = runs[0]!;
  const pct = (r: Run): string => `${(((r.elapsedMs - r.boundMs) / r.boundMs) * 100).toFixed(1)} %`;
  console.log(`\n${label}`);
  console.log(
    `  lower bound        ${median.boundMs.toFixed(0).padStart(6)} ms  = wire ${median.wireMs.toFixed(0)} ms (${median.transactions - median.busyPolls} transactions) + flash work ${median.flashMs.toFixed(0)} ms`,
  );
  console.log(
    `  measured (median)  ${median.elapsedMs.toFixed(0).padStart(6)} ms  = bound + ${pct(median)}   (best of ${RUNS}: ${best.elapsedMs.toFixed(0)} ms, +${pct(best)})`,
  );
  console.log(
    `  verified by ${median.verifiedBy}; BUSY polls ${median.busyPolls}; clock stretched ${median.stretchMs.toFixed(0)} ms`,
  );
}

console.log(
  `subflash I2C benchmark: flash ${SIZE / KiB} KiB to a simulated STM32G071 at ${CLOCK_HZ / 1000} kHz, timing model on, ${RUNS} runs each ` +
    `(node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs)`,
);
await scenario("I2C v1.2, No-Stretch commands (BUSY polling), verify with Get Checksum 0xA1", 0x12, "auto");
await scenario("I2C v1.0, clock-stretching commands, verify by read-back", 0x10, "auto");
