/**
 * Intake flood benchmark (issue 10, defect 6): a signed `cancel` must be answered in < 1 s while
 * 1,000 bundles flood the gateway. The daemon runs as its own process (simulated modules) behind a
 * real Mosquitto when one is available (SUBFLASH_TEST_MQTT_URL, or `mosquitto` on PATH), else the
 * embedded broker. The flood is 1,000 copies of a correctly signed bundle addressed to another
 * gateway, so each one costs the gateway a full signature check before its refusal. The cancel's
 * latency is printed beside the same cancel on an idle gateway, measured in the same run.
 *
 *   npm run bench:flood [-- --bundles 1000 --image-kib 4]
 */
import { parseArgs } from "node:util";
import { signCommand } from "../src/manifest/build.js";
import { connectOperator, FleetWatcher, sendCommand } from "../src/mqtt/operator/operator.js";
import { gatewayTopics } from "../src/mqtt/contract/topics.js";
import { fleetBundle } from "../src/sim/world/fleet.js";
import {
  mosquittoUnavailable,
  startAedes,
  startMosquitto,
  uniquePrefix,
} from "../test/integration/helpers/brokers.js";
import { createDaemonRig } from "../test/integration/helpers/daemon.js";

const { values } = parseArgs({
  options: { bundles: { type: "string", default: "1000" }, "image-kib": { type: "string", default: "4" } },
});
const count = Number(values.bundles);
const imageSize = Number(values["image-kib"]) * 1024;
const TARGET_MS = 1000;

const broker = mosquittoUnavailable() === null ? await startMosquitto() : await startAedes();
const rig = createDaemonRig({
  brokerUrl: broker.url,
  prefix: uniquePrefix("flood"),
  baud: 230_400,
  timing: false,
});
const operator = await connectOperator({ broker: broker.url });
let sequence = 0;
const cancel = (): Uint8Array => {
  const now = Math.floor(Date.now() / 1000);
  return signCommand(
    {
      formatVersion: 1,
      kind: "cancel",
      gateway: rig.gateway,
      sequence: ++sequence,
      issuedAt: now - 10,
      expires: now + 600,
    },
    [rig.key],
  );
};
const timedCancel = async (): Promise<{ ms: number; status: string }> => {
  const command = cancel();
  const started = performance.now();
  const response = await sendCommand(operator, {
    gateway: rig.gateway,
    command,
    prefix: rig.prefix,
    timeoutMs: 120_000,
  });
  return {
    ms: performance.now() - started,
    status: `${response.status}${response.error ? ` (${response.error.code})` : ""}`,
  };
};

const daemon = rig.start();
try {
  const watcher = new FleetWatcher(operator, { prefix: rig.prefix, gateway: rig.gateway });
  await watcher.start();
  await watcher.until(
    (v) => v.gateway(rig.gateway)?.online === true && (v.gateway(rig.gateway)?.modules.size ?? 0) === 3,
    30_000,
    "the daemon",
  );
  watcher.stop();

  const idleRuns = [];
  for (let i = 0; i < 5; i++) idleRuns.push(await timedCancel());
  const idle = idleRuns.sort((a, b) => a.ms - b.ms)[2]!;
  console.log(`  idle cancels: ${idleRuns.map((r) => r.ms.toFixed(0)).join(", ")} ms`);
  const junk = fleetBundle(
    {
      sequence: 1,
      release: "flood",
      gateways: ["some-other-gateway"],
      modules: { power: { version: "9.9.9" } },
      imageSize,
    },
    rig.key,
  );
  const topic = gatewayTopics(rig.prefix, rig.gateway).update;
  const floodStarted = performance.now();
  // The flood comes from a client of its own, as it would in the field: the cancel does not queue
  // behind it in the operator's own socket.
  const flooder = await connectOperator({ broker: broker.url });
  for (let i = 0; i < count; i++) flooder.publish(topic, junk, { qos: 1 });
  const flooded = await timedCancel();
  const floodMs = performance.now() - floodStarted;
  await flooder.stop();

  // The daemon's own view, from its log times: first flood bundle received → cancel answered.
  const times = (msg: string): number[] =>
    rig.logs
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
  const firstFlood = times("bundle received")[0] ?? NaN;
  const answered = times("command answered").at(-1) ?? NaN;
  const received = times("bundle received").filter((t) => t <= answered).length;
  console.log(
    `  daemon: cancel answered ${answered - firstFlood} ms after the first flood bundle arrived, ${received} bundles received by then`,
  );
  const shed = rig.logs.filter((l) => l.includes('"intake-full"')).length;
  console.log(
    `intake flood: ${count} signed bundles of ${junk.length} bytes for another gateway (${broker.kind})`,
  );
  console.log(`  cancel on an idle gateway:     ${idle.ms.toFixed(0)} ms  (${idle.status})`);
  console.log(`  cancel during the flood:       ${flooded.ms.toFixed(0)} ms  (${flooded.status})`);
  console.log(`  ratio flood / idle:            ${(flooded.ms / idle.ms).toFixed(1)} x`);
  console.log(
    `  bundles shed with intake-full: ${shed} (logged so far, ${floodMs.toFixed(0)} ms into the flood)`,
  );
  console.log(`  target < ${TARGET_MS} ms: ${flooded.ms < TARGET_MS ? "PASS" : "MISS"}`);
} finally {
  await daemon.kill("SIGTERM");
  await operator.stop();
  await broker.close();
  rig.close();
}
