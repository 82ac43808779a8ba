/**
 * `subflash publish <bundle>`: sends a signed bundle to one gateway or to a group, as an operator.
 * The file is checked to be a bundle first (not verified: the gateway does that), and with --wait
 * the command follows that bundle on the gateway's status until it is committed or refused.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { WireGatewayStatus } from "../../mqtt/operator/index.js";
import { FleetWatcher, publishBundle } from "../../mqtt/operator/index.js";
import type { BundleTarget } from "../../mqtt/operator/index.js";
import { peekBundle } from "../../mqtt/operator/index.js";
import { renderStatusTable } from "../../mqtt/operator/index.js";
import { action, ExitCode, UsageError } from "../run.js";
import { addBrokerOptions, connectFromFlags } from "./broker-options.js";
import type { BrokerFlags } from "./broker-options.js";

interface PublishFlags extends BrokerFlags {
  gateway?: string;
  group?: string;
  wait?: boolean;
  timeout: string;
  force?: boolean;
}

/** Bundle states after which nothing more happens to it. */
const FINISHED = new Set(["committed", "failed", "rolled-back", "rejected", "cancelled", "quarantined"]);

export function register(program: Command): void {
  addBrokerOptions(
    program
      .command("publish")
      .description("Publish a signed bundle to a gateway or to every gateway of a group")
      .argument("<bundle>", "bundle file from `subflash release create`")
      .option("--gateway <id>", "the gateway to update")
      .option("--group <name>", "the group of gateways to update")
      .option("--wait", "follow the bundle on the gateway until it is committed or refused (needs --gateway)")
      .option("--timeout <s>", "with --wait: give up after this many seconds", "600")
      .option(
        "--force",
        "publish even if the file does not look like a bundle (to test a gateway's refusal)",
      ),
  ).action(action("publish", (file: string, flags: PublishFlags) => publish(file, flags)));
}

async function publish(file: string, flags: PublishFlags): Promise<number> {
  if ((flags.gateway === undefined) === (flags.group === undefined)) {
    throw new UsageError("give exactly one of --gateway <id> or --group <name>");
  }
  if (flags.wait && flags.gateway === undefined)
    throw new UsageError("--wait needs --gateway (a group has no single outcome)");
  const timeoutSeconds = Number(flags.timeout);
  if (!(timeoutSeconds > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const peek = peekBundle(bytes);
  if (!peek.ok && !flags.force) throw new UsageError(`${file}: ${peek.reason}`);
  if (peek.ok) warnIfNotTargeted(peek.manifest.targets, flags);
  const target: BundleTarget =
    flags.gateway !== undefined ? { gateway: flags.gateway } : { group: flags.group! };

  const connection = await connectFromFlags(flags);
  let watcher: FleetWatcher | null = null;
  try {
    if (flags.wait && flags.gateway !== undefined) {
      watcher = new FleetWatcher(connection, { prefix: flags.prefix, gateway: flags.gateway });
      await watcher.start();
      await watcher.settle();
    }
    const before = watcher && flags.gateway !== undefined ? snapshot(watcher, flags.gateway) : null;
    const topic = await publishBundle(connection, target, bytes, flags.prefix);
    const what = peek.ok ? `${peek.manifest.release} #${peek.manifest.sequence} ` : "";
    process.stdout.write(`published ${what}(${bytes.length} bytes) to ${topic}\n`);
    if (!watcher || !before || !peek.ok || flags.gateway === undefined) return ExitCode.ok;
    return await waitForOutcome(watcher, flags.gateway, peek.manifest.sequence, timeoutSeconds, before);
  } finally {
    watcher?.stop();
    await connection.stop();
  }
}

/**
 * Follows the gateway until this bundle is finished or refused. What was already there before the
 * publish (an earlier run of the same sequence, an older refusal) does not count.
 */
async function waitForOutcome(
  watcher: FleetWatcher,
  gateway: string,
  sequence: number,
  timeoutSeconds: number,
  before: Snapshot,
): Promise<number> {
  const status = (): WireGatewayStatus | null | undefined => watcher.view.gateway(gateway)?.status;
  // Only changes after the publish are printed.
  const states = new Map<string, string>(
    [...(watcher.view.gateway(gateway)?.modules.values() ?? [])].map((m) => [m.module, m.state]),
  );
  const onChange = (): void => {
    for (const m of watcher.view.gateway(gateway)?.modules.values() ?? []) {
      if (states.get(m.module) === m.state) continue;
      states.set(m.module, m.state);
      const error = m.lastError ? ` (${m.lastError.code}: ${m.lastError.message})` : "";
      process.stdout.write(`  ${m.module}: ${m.state}${error}\n`);
    }
  };
  const refusal = (): NonNullable<WireGatewayStatus["lastRejected"]> | null => {
    const rejected = status()?.lastRejected;
    if (!rejected || rejected.at === before.rejectedAt) return null;
    return rejected.sequence === sequence || rejected.sequence === null ? rejected : null;
  };
  const finished = (): boolean => {
    const bundle = status()?.bundle;
    return (
      !!bundle &&
      bundle.sequence === sequence &&
      FINISHED.has(bundle.state) &&
      (bundle.startedAt ?? null) !== before.startedAt
    );
  };
  watcher.on("change", onChange);
  try {
    await watcher.until(
      () => refusal() !== null || finished(),
      timeoutSeconds * 1000,
      `bundle #${sequence} to finish on gateway ${gateway}`,
    );
  } finally {
    watcher.off("change", onChange);
  }
  const rejected = refusal();
  if (rejected) {
    process.stdout.write(
      `bundle #${sequence} refused by ${gateway}: ${rejected.error.code} — ${rejected.error.message}\n`,
    );
    return ExitCode.failed;
  }
  const bundle = status()!.bundle!;
  process.stdout.write(renderStatusTable(watcher.view.gateways()));
  const error = bundle.error ? `: ${bundle.error.code} — ${bundle.error.message}` : "";
  process.stdout.write(`bundle ${bundle.release} #${bundle.sequence} ${bundle.state}${error}\n`);
  return bundle.state === "committed" ? ExitCode.ok : ExitCode.failed;
}

interface Snapshot {
  rejectedAt: string | null;
  startedAt: string | null;
}

function snapshot(watcher: FleetWatcher, gateway: string): Snapshot {
  const status = watcher.view.gateway(gateway)?.status;
  return { rejectedAt: status?.lastRejected?.at ?? null, startedAt: status?.bundle?.startedAt ?? null };
}

function warnIfNotTargeted(targets: { gateways: string[]; groups: string[] }, flags: PublishFlags): void {
  if (flags.group !== undefined && !targets.groups.includes(flags.group)) {
    process.stderr.write(
      `subflash publish: warning: the manifest does not target group ${flags.group}; gateways will refuse it\n`,
    );
  }
  if (
    flags.gateway !== undefined &&
    targets.groups.length === 0 &&
    !targets.gateways.includes(flags.gateway)
  ) {
    process.stderr.write(
      `subflash publish: warning: the manifest does not target gateway ${flags.gateway}; it will refuse it\n`,
    );
  }
}
