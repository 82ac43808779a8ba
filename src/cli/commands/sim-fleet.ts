/**
 * `subflash sim fleet --gateways N --broker URL`: many simulated gateways (full engines, own MQTT
 * connections and state directories, simulated modules) in this one process, for campaign demos,
 * tests and benchmarks. Faults per gateway: --fail-health, --offline, --slow.
 */
import type { Command } from "commander";
import type { SimGatewayFailure } from "../../sim/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface FleetFlags {
  gateways: string;
  broker: string;
  prefix: string;
  key?: string;
  keyOut?: string;
  groups: string;
  idPrefix: string;
  failHealth?: string;
  offline?: string;
  slow?: string;
  slowBaud: string;
  timing?: boolean;
  dir?: string;
}

export function registerFleet(sim: Command): void {
  sim
    .command("fleet")
    .description("run many simulated gateways (full engines with simulated modules) against a broker")
    .requiredOption("--gateways <n>", "how many gateways")
    .requiredOption("--broker <url>", "MQTT broker URL", process.env.SUBFLASH_BROKER)
    .option("--prefix <prefix>", "topic prefix", "subflash")
    .option("--key <file>", "secret release key whose public half the gateways trust")
    .option("--key-out <prefix>", "write a new release key pair to <prefix>.secret.json / .public.json")
    .option("--groups <list>", "comma-separated groups of every gateway; {i%N} adds ring-(i mod N)", "fleet")
    .option("--id-prefix <text>", "gateway ids are <text>-001, <text>-002…", "gw")
    .option("--fail-health <ids>", "comma-separated gateway ids whose new firmware fails its health check")
    .option("--offline <ids>", "comma-separated gateway ids that go offline after publishing their inventory")
    .option("--slow <ids>", "comma-separated gateway ids on a slow link (simulated timing)")
    .option("--slow-baud <rate>", "baud rate of the slow links", "9600")
    .option("--timing", "simulated wire and flash time on every gateway")
    .option("--dir <dir>", "keep the gateways' state directories here")
    .action(action("sim fleet", (flags: FleetFlags) => runFleet(flags)));
}

async function runFleet(flags: FleetFlags): Promise<number> {
  // Loaded when the command runs, so `subflash sim --help` stays light (no gateway, MQTT or zod).
  const { startSimFleet } = await import("../../sim/index.js");
  const { readSigningKey, writeKeyFiles } = await import("../../signing/index.js");
  const count = parseNumber(flags.gateways, "--gateways");
  if (count < 1) throw new UsageError("--gateways must be at least 1");
  if (!flags.key && !flags.keyOut) throw new UsageError("give --key <file> or --key-out <prefix>");
  const key = flags.key ? await readSigningKey(flags.key) : undefined;
  const list = (text?: string): Set<string> => new Set((text ?? "").split(",").filter((s) => s.length > 0));
  const failHealth = list(flags.failHealth);
  const offline = list(flags.offline);
  const slow = list(flags.slow);
  const slowBaud = parseNumber(flags.slowBaud, "--slow-baud");
  const ring = /\{i%(\d+)\}/.exec(flags.groups);
  const started = Date.now();
  const fleet = await startSimFleet({
    gateways: count,
    broker: flags.broker,
    prefix: flags.prefix,
    ...(key ? { key } : {}),
    id: (i) => `${flags.idPrefix}-${String(i + 1).padStart(3, "0")}`,
    groups: (i) =>
      flags.groups
        .split(",")
        .filter((g) => g.length > 0)
        .map((g) => (ring ? g.replace(ring[0], `ring-${i % Number(ring[1])}`) : g)),
    failures: (id) => {
      const failure: SimGatewayFailure = {
        ...(failHealth.has(id) ? { healthFail: true as const } : {}),
        ...(offline.has(id) ? { offline: true } : {}),
        ...(slow.has(id) ? { slowLink: { baud: slowBaud } } : {}),
      };
      return Object.keys(failure).length > 0 ? failure : undefined;
    },
    ...(flags.timing ? { timing: true } : {}),
    ...(flags.dir ? { dir: flags.dir } : {}),
  });
  if (flags.keyOut) {
    const { secretPath } = await writeKeyFiles(flags.keyOut, fleet.key);
    process.stdout.write(`release key: ${secretPath}\n`);
  }
  const rss = Math.round(process.memoryUsage().rss / 1024 / 1024);
  process.stdout.write(
    `fleet ready: ${count} gateways × ${fleet.modules.length} modules on ${flags.broker} under ${flags.prefix}/ in ${Date.now() - started} ms, rss ${rss} MB\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await fleet.stop();
  return ExitCode.ok;
}
