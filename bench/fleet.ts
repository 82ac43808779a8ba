/**
 * `npm run bench:fleet`: 200 simulated gateways × 4 modules (`subflash sim fleet` in a child process)
 * on one Mosquitto, a 4-wave campaign to completion with the controller in this process. Prints the
 * time per wave against the configured rate, the decision latency (last outcome of a wave → next
 * wave started; target < 1 s), MQTT messages per gateway, memory per simulated gateway and of the
 * controller (target < 150 MB), and whether every gateway's outcome is accounted for.
 *
 * FLEET_GATEWAYS=50 npm run bench:fleet for a quicker run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CampaignController } from "../src/mqtt/operator/campaign/controller.js";
import { connectOperator } from "../src/mqtt/operator/operator.js";
import { createSigningKey } from "../src/signing/keys.js";
import { writeKeyFiles } from "../src/signing/index.js";
import { startMosquitto, uniquePrefix } from "../test/integration/helpers/brokers.js";
import { campaignFiles, releaseBundle } from "../test/integration/helpers/campaign.js";
import { seconds, table, verdict } from "./lib/report.js";

const GATEWAYS = Number(process.env.FLEET_GATEWAYS ?? 200);
const RATE_PER_MINUTE = 12_000;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function startFleet(count: number, broker: string, prefix: string, keyPath: string) {
  const child = spawn(
    process.execPath,
    [
      "bin/subflash.mjs",
      "sim",
      "fleet",
      "--gateways",
      String(count),
      "--broker",
      broker,
      "--prefix",
      prefix,
      "--key",
      keyPath,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("fleet ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`sim fleet exited with ${code}`)));
  });
  return {
    rss: () => rssOf(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), "subflash-bench-fleet-"));
  const key = createSigningKey({ label: "bench" });
  const { secretPath } = await writeKeyFiles(join(dir, "release"), key);
  try {
    const one = await startFleet(1, broker.url, uniquePrefix("bench-one"), secretPath);
    const rssOne = one.rss();
    await one.stop();

    const prefix = uniquePrefix("bench-fleet");
    const started = Date.now();
    const fleet = await startFleet(GATEWAYS, broker.url, prefix, secretPath);
    const startup = Date.now() - started;
    const rssFleet = fleet.rss();

    const counter = await connectOperator({ broker: broker.url });
    const perGateway = new Map<string, number>();
    counter.on("message", (m) => {
      const gw = m.topic.slice(prefix.length + 1).split("/")[0]!;
      if (gw !== "campaigns") perGateway.set(gw, (perGateway.get(gw) ?? 0) + 1);
    });
    await counter.subscribe([{ filter: `${prefix}/#`, qos: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const retainedSeen = [...perGateway.values()].reduce((a, b) => a + b, 0);
    perGateway.clear();

    const files = await campaignFiles(key, releaseBundle(key, 100), {
      id: "bench",
      targets: { groups: ["fleet"] },
      waves: [{ size: 10 }, { size: "25%" }, { size: "50%" }, { size: "100%" }],
      rateLimit: { maximumPerMinute: RATE_PER_MINUTE },
      abort: [{ failureType: "any", thresholdPercentage: 20, minNumberOfExecutedThings: 10 }],
    });
    const connection = await connectOperator({ broker: broker.url });
    const heapBefore = process.memoryUsage().heapUsed;
    const controller = new CampaignController({
      connection,
      spec: files.spec,
      bundle: new Uint8Array(readFileSync(files.bundlePath)),
      key,
      stateDir: files.stateDir,
      prefix,
      settleMs: 500,
    });
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const campaignStarted = Date.now();
    const result = await controller.run();
    const campaignMs = Date.now() - campaignStarted;
    clearInterval(sampler);
    const heapAfter = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 1500)); // late retained status messages

    const record = controller.record!;
    const outcomes = Object.values(record.gateways);
    const committed = outcomes.filter((g) => g.outcome === "committed").length;
    const accounted = outcomes.filter((g) => g.finishedAt !== null).length;
    const latencies = controller.waveTimes.slice(1).map((w, i) => {
      const prev = controller.waveTimes[i]!;
      return prev.lastOutcomeAt === null ? 0 : w.startedAt - prev.lastOutcomeAt;
    });
    const worstLatency = Math.max(0, ...latencies);

    console.log(`fleet campaign: ${GATEWAYS} simulated gateways × 4 modules on Mosquitto (${broker.url})`);
    console.log(
      `  fleet start-up ${seconds(startup)}; ${retainedSeen} retained messages seen before the campaign`,
    );
    console.log(
      `  campaign ${result.state} in ${seconds(campaignMs)}; rate limit ${RATE_PER_MINUTE}/min (${RATE_PER_MINUTE / 60}/s)`,
    );
    console.log("");
    const rows: string[][] = [
      ["wave", "gateways", "time", "at the rate limit alone", "ratio", "decision latency"],
    ];
    result.waves.forEach((w, i) => {
      const ms = Date.parse(w.finishedAt ?? "") - Date.parse(w.startedAt ?? "");
      const rateMs = (w.targets / (RATE_PER_MINUTE / 60)) * 1000;
      rows.push([
        String(w.index),
        String(w.targets),
        seconds(ms),
        seconds(rateMs),
        `${(ms / Math.max(rateMs, 1)).toFixed(2)}×`,
        i === 0 ? "—" : `${latencies[i - 1]} ms`,
      ]);
    });
    console.log(table(rows));
    const messages = [...perGateway.values()];
    const avg = messages.reduce((a, b) => a + b, 0) / Math.max(messages.length, 1);
    console.log("");
    console.log(
      `  MQTT messages per gateway during the campaign: mean ${avg.toFixed(1)}, max ${Math.max(...messages)} (status, module status, inventory, events, bundle)`,
    );
    console.log(
      `  memory per simulated gateway: ${mb((rssFleet - rssOne) / Math.max(GATEWAYS - 1, 1))} (RSS ${mb(rssFleet)} for ${GATEWAYS}, ${mb(rssOne)} for 1)`,
    );
    console.log(
      `  controller: peak RSS ${mb(peakRss)} (whole bench process), heap growth ${mb(heapAfter - heapBefore)}`,
    );
    console.log("");
    console.log(
      `  decision latency < 1 s:        ${verdict(worstLatency < 1000)} (worst ${worstLatency} ms)`,
    );
    console.log(`  controller memory < 150 MB:    ${verdict(peakRss < 150 * 1024 * 1024)} (${mb(peakRss)})`);
    console.log(
      `  every outcome accounted for:   ${verdict(accounted === GATEWAYS && outcomes.length === GATEWAYS)} (${accounted}/${GATEWAYS}; ${committed} committed)`,
    );

    await connection.stop();
    await counter.stop();
    await fleet.stop();
    rmSync(files.dir, { recursive: true, force: true });
  } finally {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
