/**
 * `subflash rollback` (and `cancel`, `retry`, `acknowledge`): signs an operator command with a secret key and sends
 * it to one gateway, then waits for the gateway's correlated response and prints it. The exit code
 * is 0 only when the gateway accepted and carried out the command: with `--wait`, the run it started
 * must end as asked (rollback: rolled-back, retry: committed, cancel: cancelled) with no module failed;
 * a run that failed or was undone prints its final outcome and exits 1 (issue 10, defect 7).
 *
 * Commands carry a sequence number that must grow across all commands a gateway accepts (a counter
 * separate from the manifests'). By default it is the current time in milliseconds, which grows on
 * its own as long as the operator's clock does not go back; `--sequence` sets it explicitly.
 */
import type { Command } from "commander";
import { signCommand } from "../../manifest/index.js";
import { FORMAT_VERSION } from "../../manifest/index.js";
import type { CommandKind, SignedCommand } from "../../manifest/index.js";
import type { EventEnvelope, WireModuleStatus } from "../../mqtt/operator/index.js";
import { FleetWatcher, sendCommand } from "../../mqtt/operator/index.js";
import { readSigningKey } from "../../signing/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";
import { addBrokerOptions, connectFromFlags } from "./broker-options.js";
import type { BrokerFlags } from "./broker-options.js";

interface CommandFlags extends BrokerFlags {
  gateway: string;
  key: string;
  module?: string;
  bundle?: string;
  sequence?: string;
  expires: string;
  timeout: string;
  wait?: boolean;
  json?: boolean;
}

/** The end a command's run must reach to count as carried out. */
const EXPECTED: Record<CommandKind, string> = {
  rollback: "rolled-back",
  retry: "committed",
  cancel: "cancelled",
  // Starts no run: the gateway's "ok" is the whole answer.
  "acknowledge-state": "acknowledged",
};

/** Module states in which nothing is happening to the module any more. */
const ACTIVE = new Set([
  "queued",
  "downloading",
  "entering-bootloader",
  "erasing",
  "writing",
  "verifying",
  "activating",
  "health-check",
  "rolling-back",
]);

const DESCRIPTIONS: Record<CommandKind, string> = {
  rollback: "Roll a gateway's modules back to their previous firmware (signed command)",
  cancel: "Cancel the bundle a gateway is applying; updated modules are rolled back (signed command)",
  retry: "Retry the modules that failed in the last bundle (signed command)",
  "acknowledge-state":
    "Acknowledge a gateway's lost or disagreeing anti-replay records so it accepts bundles again (signed command)",
};

/** CLI name → command kind. */
const COMMANDS = [
  ["rollback", "rollback"],
  ["cancel", "cancel"],
  ["retry", "retry"],
  ["acknowledge", "acknowledge-state"],
] as const;

export function register(program: Command): void {
  for (const [name, kind] of COMMANDS) {
    addBrokerOptions(
      program
        .command(name)
        .description(DESCRIPTIONS[kind])
        .requiredOption("--gateway <id>", "the gateway to send the command to")
        .requiredOption("--key <file>", "secret key file (from `subflash keygen`) trusted by the gateway")
        .option(
          "--module <id>",
          "only this module (its id, or a module type: every module of that type; default: all modules)",
        )
        .option("--bundle <sequence>", "the bundle concerned, by its manifest sequence number")
        .option("--sequence <n>", "command sequence number (default: current time in ms)")
        .option("--expires <s>", "seconds the signed command stays valid", "300")
        .option(
          "--timeout <s>",
          "seconds to wait for the gateway's response (and with --wait, for the modules)",
          "120",
        )
        .option("--wait", "after the response, follow the modules until they settle; exit 1 if one failed")
        .option("--json", "print the response as JSON"),
    ).action(action(name, (flags: CommandFlags) => run(kind, flags)));
  }
}

async function run(kind: CommandKind, flags: CommandFlags): Promise<number> {
  const now = Date.now();
  const sequence = flags.sequence !== undefined ? parseNumber(flags.sequence, "--sequence") : now;
  const expires = Number(flags.expires);
  const timeout = Number(flags.timeout);
  if (!(expires > 0))
    throw new UsageError(`--expires must be a positive number of seconds, got "${flags.expires}"`);
  if (!(timeout > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
  const issuedAt = Math.floor(now / 1000);
  const command: SignedCommand = {
    formatVersion: FORMAT_VERSION,
    kind,
    gateway: flags.gateway,
    sequence,
    issuedAt,
    expires: issuedAt + Math.ceil(expires),
    ...(flags.module !== undefined ? { module: flags.module } : {}),
    ...(flags.bundle !== undefined ? { bundle: { sequence: parseNumber(flags.bundle, "--bundle") } } : {}),
  };
  const key = await readSigningKey(flags.key);
  const signed = signCommand(command, [key]);

  const connection = await connectFromFlags(flags);
  const watcher = flags.wait
    ? new FleetWatcher(connection, { prefix: flags.prefix, gateway: flags.gateway, events: true })
    : null;
  // The end of the run the command starts (or, for cancel, stops): the gateway's `bundle` event.
  let ended: EventEnvelope | null = null;
  const onEvent = (event: EventEnvelope): void => {
    if (event.type === "bundle" && event.state !== "running" && ended === null) ended = event;
  };
  watcher?.on("event", onEvent);
  try {
    const before = new Map<string, number>();
    if (watcher) {
      await watcher.start();
      await watcher.settle();
      for (const m of watcher.view.gateway(flags.gateway)?.modules.values() ?? [])
        before.set(m.module, m.seq);
    }
    ended = null;
    const response = await sendCommand(connection, {
      gateway: flags.gateway,
      command: signed,
      prefix: flags.prefix,
      timeoutMs: timeout * 1000,
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    } else if (response.status === "ok") {
      const modules =
        response.modules && response.modules.length > 0 ? ` (${response.modules.join(", ")})` : "";
      process.stdout.write(`${kind} accepted by ${response.gateway}${modules}, sequence ${sequence}\n`);
    } else {
      const error = response.error ? `${response.error.code}: ${response.error.message}` : "no reason given";
      process.stdout.write(`${kind} refused by ${response.gateway}: ${error}\n`);
    }
    if (response.status !== "ok") return ExitCode.failed;
    if (!watcher || !response.modules || response.modules.length === 0) return ExitCode.ok;
    return await waitForRun(
      kind,
      watcher,
      flags.gateway,
      response.modules,
      before,
      () => ended,
      timeout * 1000,
    );
  } finally {
    watcher?.stop();
    await connection.stop();
  }
}

/**
 * Waits until the run has ended and the modules the command acted on have moved and are no longer
 * busy; prints their states and the run's outcome. Exit 1 unless the run ended as the command asked.
 */
async function waitForRun(
  kind: CommandKind,
  watcher: FleetWatcher,
  gateway: string,
  modules: string[],
  before: Map<string, number>,
  ended: () => EventEnvelope | null,
  timeoutMs: number,
): Promise<number> {
  const statusOf = (id: string): WireModuleStatus | undefined =>
    watcher.view.gateway(gateway)?.modules.get(id);
  await watcher.until(
    () =>
      ended() !== null &&
      modules.some((id) => (statusOf(id)?.seq ?? 0) > (before.get(id) ?? 0)) &&
      modules.every((id) => {
        const s = statusOf(id);
        return s !== undefined && !ACTIVE.has(s.state);
      }),
    timeoutMs,
    `modules ${modules.join(", ")} of gateway ${gateway} to settle`,
  );
  const end = ended()!;
  const outcome = typeof end.state === "string" ? end.state : "unknown";
  const carriedOut = outcome === EXPECTED[kind];
  let failed = !carriedOut;
  for (const id of modules) {
    const s = statusOf(id)!;
    failed ||= s.state === "failed";
    // A run that did not do what was asked put the modules back: say where they are, not where they were going.
    const state = carriedOut ? s.state : s.state === "rolled-back" ? "restored" : s.state;
    const error = s.lastError ? `  ${s.lastError.code}: ${s.lastError.message}` : "";
    process.stdout.write(`  ${id}: ${state} ${s.version ?? "?"} (slot ${s.activeSlot ?? "-"})${error}\n`);
  }
  const error = end.error as { code?: string; message?: string } | null | undefined;
  const why = error?.code ? `: ${error.code} — ${error.message ?? ""}` : "";
  process.stdout.write(`${kind} ${carriedOut ? outcome : `did not complete: run ${outcome}`}${why}\n`);
  return failed ? ExitCode.failed : ExitCode.ok;
}
