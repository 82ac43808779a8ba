/**
 * `subflash campaign run|status|pause|resume|approve|abort`: fleet rollouts in waves. `run` is the
 * controller (foreground, live view, final report); the others talk to it from any terminal through
 * the broker. The logic lives in src/mqtt/operator/campaign.
 */
import { dirname, join } from "node:path";
import type { Command } from "commander";
import {
  CampaignController,
  CampaignWatcher,
  loadCampaignSpec,
  operatorName,
  renderCampaign,
  renderReport,
  sendCampaignControl,
} from "../../mqtt/operator/index.js";
import type { CampaignAction, CampaignSnapshot } from "../../mqtt/operator/index.js";
import { assertTopicLevel } from "../../mqtt/operator/index.js";
import { readSigningKey } from "../../signing/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";
import { addBrokerOptions, connectFromFlags } from "./broker-options.js";
import type { BrokerFlags } from "./broker-options.js";

interface RunFlags extends BrokerFlags {
  key: string;
  state?: string;
  json?: boolean;
}

interface StatusFlags extends BrokerFlags {
  watch?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const campaign = program.command("campaign").description("Roll a signed bundle out to a fleet in waves");
  addBrokerOptions(
    campaign
      .command("run <spec>")
      .description("Run a campaign (campaign.yaml) in the foreground, with a live view and a final report")
      .requiredOption("--key <file>", "secret key trusted by the gateways (signs the emergency-stop cancels)")
      .option("--state <dir>", "journal directory (default: campaign-state beside the spec)")
      .option("--json", "print decisions and the final report as JSON lines"),
  ).action(action("campaign run", (spec: string, flags: RunFlags) => run(spec, flags)));
  addBrokerOptions(
    campaign
      .command("status [id]")
      .description("Show one campaign (or every campaign under the prefix) from its retained state")
      .option("--watch", "keep running and redraw on every change (Ctrl-C to stop)")
      .option("--json", "print JSON"),
  ).action(action("campaign status", (id: string | undefined, flags: StatusFlags) => status(id, flags)));
  const controls: Array<[CampaignAction["action"], string]> = [
    ["pause", "Pause a campaign: nothing new is sent; gateways updating finish"],
    ["resume", "Resume a paused campaign"],
    ["approve", "Approve the wave waiting for approval (or --wave N)"],
    ["abort", "Emergency stop: signed cancel to gateways still updating, nothing new started"],
  ];
  for (const [name, description] of controls) {
    const command = campaign.command(`${name} <id>`).description(description);
    if (name === "approve") command.option("--wave <n>", "the wave to approve (1-based)");
    addBrokerOptions(command).action(
      action(`campaign ${name}`, (id: string, flags: BrokerFlags & { wave?: string }) =>
        control(name, id, flags),
      ),
    );
  }
}

async function run(specPath: string, flags: RunFlags): Promise<number> {
  const { spec, bundle } = loadCampaignSpec(specPath);
  const key = await readSigningKey(flags.key);
  const connection = await connectFromFlags(flags);
  const controller = new CampaignController({
    connection,
    spec,
    bundle,
    key,
    stateDir: flags.state ?? join(dirname(specPath), "campaign-state"),
    prefix: flags.prefix,
  });
  let timer: NodeJS.Timeout | null = null;
  let latest: CampaignSnapshot | null = null;
  const draw = (): void => {
    timer = null;
    if (!latest) return;
    const clear = process.stdout.isTTY ? "\x1b[2J\x1b[H" : "";
    process.stdout.write(`${clear}${renderCampaign(latest)}`);
  };
  if (flags.json) {
    controller.on("decision", (d) => process.stdout.write(`${JSON.stringify({ decision: d })}\n`));
  } else {
    controller.on("change", (s) => {
      latest = s;
      timer ??= setTimeout(draw, process.stdout.isTTY ? 200 : 1000);
    });
  }
  const interrupted = new Promise<null>((resolve) => {
    process.once("SIGINT", () => resolve(null));
    process.once("SIGTERM", () => resolve(null));
  });
  try {
    const result = await Promise.race([controller.run(), interrupted]);
    if (timer) clearTimeout(timer);
    if (result === null) {
      process.stderr.write(
        `subflash campaign run: stopped; the journal keeps the campaign, run the same command again to continue\n`,
      );
      return ExitCode.failed;
    }
    if (flags.json) process.stdout.write(`${JSON.stringify({ report: result })}\n`);
    else process.stdout.write(renderReport(result));
    return result.state === "completed" && result.problems.length === 0 ? ExitCode.ok : ExitCode.failed;
  } finally {
    await connection.stop();
  }
}

async function status(id: string | undefined, flags: StatusFlags): Promise<number> {
  if (id !== undefined) checkId(id);
  const connection = await connectFromFlags(flags);
  const watcher = new CampaignWatcher(connection, {
    prefix: flags.prefix,
    ...(id !== undefined ? { id } : {}),
  });
  try {
    await watcher.start();
    await watcher.settle();
    const print = (): void => {
      const all = [...watcher.campaigns.values()].sort((a, b) => a.id.localeCompare(b.id));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(id !== undefined ? (all[0] ?? null) : all)}\n`);
        return;
      }
      const clear = flags.watch && process.stdout.isTTY ? "\x1b[2J\x1b[H" : "";
      process.stdout.write(`${clear}${all.map((s) => renderReport(s)).join("\n")}`);
    };
    if (id !== undefined && !watcher.campaigns.has(id)) {
      process.stderr.write(
        `subflash campaign status: nothing retained for campaign ${id} under ${flags.prefix}/\n`,
      );
      if (!flags.watch) return ExitCode.failed;
    }
    print();
    if (!flags.watch) return ExitCode.ok;
    let timer: NodeJS.Timeout | null = null;
    const off = watcher.onChange(() => {
      timer ??= setTimeout(() => {
        timer = null;
        print();
      }, 200);
    });
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    off();
    if (timer) clearTimeout(timer);
    return ExitCode.ok;
  } finally {
    watcher.stop();
    await connection.stop();
  }
}

async function control(
  name: CampaignAction["action"],
  id: string,
  flags: BrokerFlags & { wave?: string },
): Promise<number> {
  checkId(id);
  const connection = await connectFromFlags(flags);
  try {
    let current: CampaignSnapshot | null = null;
    if (name === "approve" && flags.wave === undefined) {
      const watcher = new CampaignWatcher(connection, { prefix: flags.prefix, id });
      await watcher.start();
      await watcher.settle();
      watcher.stop();
      current = watcher.campaigns.get(id) ?? null;
      if (!current) throw new UsageError(`no retained state for campaign ${id}: name the wave with --wave N`);
    }
    const command: CampaignAction =
      name === "approve"
        ? {
            action: "approve",
            ...(flags.wave !== undefined ? { wave: parseNumber(flags.wave, "--wave") } : {}),
          }
        : { action: name };
    const topic = await sendCampaignControl(connection, id, command, {
      prefix: flags.prefix,
      by: operatorName(),
      current,
    });
    process.stdout.write(`${name} sent for campaign ${id} (${topic})\n`);
    return ExitCode.ok;
  } finally {
    await connection.stop();
  }
}

function checkId(id: string): void {
  try {
    assertTopicLevel(id, "campaign id");
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/ \[[a-z-]+\]$/, ""));
  }
}
