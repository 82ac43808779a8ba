/**
 * Intake memory benchmark (issue 10, defect 5): the daemon's resident memory after 3 × 250 MiB
 * publishes on its bundle topic, against its own idle RSS measured in the same run. Target: within
 * 50 MiB. On MQTT 5 the daemon's CONNECT carries Maximum Packet Size = bundle limit + headers, so the
 * broker drops the oversize messages instead of sending them. Needs a real Mosquitto
 * (SUBFLASH_TEST_MQTT_URL or `mosquitto` on PATH); without one it says so and exits 0.
 *
 *   npm run bench:memory [-- --mib 250 --count 3]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { connectOperator, FleetWatcher } from "../src/mqtt/operator/operator.js";
import { gatewayTopics } from "../src/mqtt/contract/topics.js";
import { mosquittoUnavailable, startMosquitto, uniquePrefix } from "../test/integration/helpers/brokers.js";
import { createDaemonRig } from "../test/integration/helpers/daemon.js";

const { values } = parseArgs({
  options: { mib: { type: "string", default: "250" }, count: { type: "string", default: "3" } },
});
const size = Number(values.mib) * 1024 * 1024;
const count = Number(values.count);
const TARGET_MIB = 50;

const unavailable = mosquittoUnavailable();
if (unavailable) {
  console.log(`intake memory: skipped (${unavailable})`);
  process.exit(0);
}
const broker = await startMosquitto();
const rig = createDaemonRig({
  brokerUrl: broker.url,
  prefix: uniquePrefix("memory"),
  baud: 230_400,
  timing: false,
});
const operator = await connectOperator({ broker: broker.url });
const daemon = rig.start();
const rssMiB = (): number => {
  const status = readFileSync(`/proc/${daemon.child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const watcher = new FleetWatcher(operator, { prefix: rig.prefix, gateway: rig.gateway });
  await watcher.start();
  await watcher.until(
    (v) => v.gateway(rig.gateway)?.online === true && (v.gateway(rig.gateway)?.modules.size ?? 0) === 3,
    30_000,
    "the daemon",
  );
  watcher.stop();
  await sleep(2000);
  const idle = rssMiB();
  const topic = gatewayTopics(rig.prefix, rig.gateway).update;
  let peak = idle;
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(size).fill(0x42 + i);
    await operator.publishAndWait(topic, payload, { qos: 1 });
    for (let t = 0; t < 10; t++) {
      await sleep(200);
      peak = Math.max(peak, rssMiB());
    }
  }
  await sleep(3000);
  const after = rssMiB();
  const tooLarge = rig.logs.filter((l) => l.includes("bundle too large")).length;
  console.log(
    `intake memory: ${count} × ${values.mib} MiB publishes to the bundle topic (mosquitto, MQTT 5)`,
  );
  console.log(`  daemon RSS idle:  ${idle.toFixed(1)} MiB`);
  console.log(`  daemon RSS peak:  ${peak.toFixed(1)} MiB`);
  console.log(`  daemon RSS after: ${after.toFixed(1)} MiB  (${(after - idle).toFixed(1)} MiB over idle)`);
  console.log(`  oversize messages that reached the daemon: ${tooLarge}`);
  console.log(`  target after − idle ≤ ${TARGET_MIB} MiB: ${after - idle <= TARGET_MIB ? "PASS" : "MISS"}`);
} finally {
  await daemon.kill("SIGTERM");
  await operator.stop();
  await broker.close();
  rig.close();
}
