/**
 * `subflash retire --gateway <id> --broker <url>`: clears the retained topics a gateway that is gone
 * for good left on the broker (status, module status, online, Home Assistant discovery and states, a
 * retained bundle), so dashboards and Home Assistant forget it. Refuses while the gateway says it is
 * online, unless --force.
 */
import type { Command } from "commander";
import { assertTopicLevel, retireGateway } from "../../mqtt/operator/index.js";
import { action, ExitCode, UsageError } from "../run.js";
import { addBrokerOptions, connectFromFlags } from "./broker-options.js";
import type { BrokerFlags } from "./broker-options.js";

interface RetireFlags extends BrokerFlags {
  gateway: string;
  homeAssistantPrefix: string;
  homeAssistant: boolean;
  force?: boolean;
  dryRun?: boolean;
}

export function register(program: Command): void {
  addBrokerOptions(
    program
      .command("retire")
      .description("Clear the retained MQTT topics (and Home Assistant entities) of a retired gateway")
      .requiredOption("--gateway <id>", "the retired gateway")
      .option("--home-assistant-prefix <prefix>", "Home Assistant discovery prefix", "homeassistant")
      .option("--no-home-assistant", "leave Home Assistant discovery alone")
      .option("--dry-run", "list what would be cleared, clear nothing")
      .option("--force", "clear even though the gateway says it is online"),
  ).action(action("retire", (flags: RetireFlags) => retire(flags)));
}

async function retire(flags: RetireFlags): Promise<number> {
  try {
    assertTopicLevel(flags.gateway, "--gateway");
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/ \[[a-z-]+\]$/, ""));
  }
  const connection = await connectFromFlags(flags);
  try {
    const cleared = await retireGateway(connection, {
      prefix: flags.prefix,
      gateway: flags.gateway,
      haPrefix: flags.homeAssistant ? flags.homeAssistantPrefix : null,
      force: flags.force ?? false,
      dryRun: flags.dryRun ?? false,
    });
    const verb = flags.dryRun ? "would clear" : "cleared";
    for (const topic of cleared) process.stdout.write(`${verb} ${topic}\n`);
    process.stdout.write(`${verb} ${cleared.length} retained topic(s) of gateway ${flags.gateway}\n`);
    return ExitCode.ok;
  } finally {
    await connection.stop();
  }
}
