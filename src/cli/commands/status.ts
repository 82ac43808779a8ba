/**
 * `subflash status`: the modules of one gateway (or of every gateway under the prefix), read from
 * the retained status messages. Prints once and exits, or with --watch redraws on every change.
 */
import type { Command } from "commander";
import { FleetWatcher } from "../../mqtt/operator/index.js";
import { renderFleetSummary, renderStatusTable } from "../../mqtt/operator/index.js";
import { assertTopicLevel } from "../../mqtt/operator/index.js";
import { action, ExitCode, UsageError } from "../run.js";
import { addBrokerOptions, connectFromFlags } from "./broker-options.js";
import type { BrokerFlags } from "./broker-options.js";

interface StatusFlags extends BrokerFlags {
  gateway?: string;
  watch?: boolean;
  json?: boolean;
  group?: string;
  summary?: boolean;
  table?: boolean;
}

/** Above this many gateways (and without a filter) the summary replaces the per-module table. */
const SUMMARY_ABOVE = 25;

export function register(program: Command): void {
  addBrokerOptions(
    program
      .command("status")
      .description("Show the modules of a gateway (or of all gateways) from their retained MQTT status")
      .option("--gateway <id>", "only this gateway")
      .option("--group <name>", "only the gateways of this group")
      .option("--summary", "counts per release and state, per group (the default above 25 gateways)")
      .option("--table", "the per-module table even for a large fleet")
      .option("--watch", "keep running and redraw on every change (Ctrl-C to stop)")
      .option("--json", "print JSON (with --watch: one snapshot per line)"),
  ).action(action("status", (flags: StatusFlags) => status(flags)));
}

async function status(flags: StatusFlags): Promise<number> {
  if (flags.gateway !== undefined) {
    try {
      assertTopicLevel(flags.gateway, "--gateway");
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/ \[[a-z-]+\]$/, ""));
    }
  }
  const connection = await connectFromFlags(flags);
  const watcher = new FleetWatcher(connection, {
    prefix: flags.prefix,
    ...(flags.gateway !== undefined ? { gateway: flags.gateway } : {}),
  });
  try {
    await watcher.start();
    await watcher.settle();
    if (!flags.watch) {
      print(watcher, flags);
      if (flags.gateway !== undefined && !watcher.view.gateway(flags.gateway)) {
        process.stderr.write(
          `subflash status: no status retained for gateway ${flags.gateway} under ${flags.prefix}/\n`,
        );
        return ExitCode.failed;
      }
      return ExitCode.ok;
    }
    await watch(watcher, flags);
    return ExitCode.ok;
  } finally {
    watcher.stop();
    await connection.stop();
  }
}

function print(watcher: FleetWatcher, flags: StatusFlags): void {
  for (const problem of watcher.view.problems.splice(0))
    process.stderr.write(`subflash status: ignored: ${problem}\n`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(watcher.view.toJSON(), null, flags.watch ? undefined : 2)}\n`);
    return;
  }
  const clear = flags.watch && process.stdout.isTTY ? "\x1b[2J\x1b[H" : "";
  const stamp = flags.watch ? `${new Date().toLocaleTimeString()}  (Ctrl-C to stop)\n` : "";
  const gateways = watcher.view
    .gateways()
    .filter((g) => flags.group === undefined || (g.status?.groups ?? []).includes(flags.group));
  const summary =
    flags.summary === true ||
    (!flags.table &&
      flags.gateway === undefined &&
      flags.group === undefined &&
      gateways.length > SUMMARY_ABOVE);
  const body = summary ? renderFleetSummary(gateways) : renderStatusTable(gateways);
  process.stdout.write(`${clear}${stamp}${body}`);
}

/** Redraws at most every 200 ms until SIGINT/SIGTERM. */
async function watch(watcher: FleetWatcher, flags: StatusFlags): Promise<void> {
  print(watcher, flags);
  let timer: NodeJS.Timeout | null = null;
  const onChange = (): void => {
    timer ??= setTimeout(() => {
      timer = null;
      print(watcher, flags);
    }, 200);
  };
  watcher.on("change", onChange);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  watcher.off("change", onChange);
  if (timer) clearTimeout(timer);
}
