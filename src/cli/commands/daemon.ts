/**
 * `subflash daemon --config <file>`: the gateway. JSON logs (pino) on stdout for journald, one config
 * file validated at start (every problem listed, exit 2), state in the configured directory.
 * SIGTERM/SIGINT stop it cleanly: no new bundles, the engine halts at a journalled point (the next
 * start resumes or rolls back), final status and online = false are published, exit 0.
 *
 * `--simulate <file>` runs simulated modules in place of the hardware (docs/getting-started.md).
 */
import type { Command } from "commander";
import pino from "pino";
import { loadConfig } from "../../gateway/index.js";
import type { GatewayConfig } from "../../gateway/index.js";
import { UpdateEngine } from "../../gateway/index.js";
import { ConfigError } from "../../gateway/index.js";
import { DEFAULT_MAX_BUNDLE_BYTES } from "../../mqtt/gateway/index.js";
import { startGatewayService } from "../../mqtt/gateway/index.js";
import { createSimModules } from "../../sim/index.js";
import type { SimModules } from "../../sim/index.js";
import { loadSimSpec } from "../../sim/index.js";
import { describeError } from "../../util/errors.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface DaemonFlags {
  config: string;
  logLevel?: string;
  simulate?: string;
  maxBundleBytes?: string;
  check?: boolean;
  acceptStateLoss?: boolean;
}

/** After a fatal error, the longest wait for clean-up before the process exits anyway. */
const FATAL_EXIT_GRACE_MS = 2_000;

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Secrets never reach the logs, wherever they appear in a logged object. */
const REDACT = [
  "password",
  "*.password",
  "mqtt.password",
  "*.mqtt.password",
  "seed",
  "*.seed",
  "secretKey",
  "*.secretKey",
  "privateKey",
  "*.privateKey",
  "tls.key",
  "*.tls.key",
];

export function register(program: Command): void {
  program
    .command("daemon")
    .description("Run the gateway: receive signed bundles and commands over MQTT and update the modules")
    .requiredOption("--config <file>", "gateway configuration (YAML or JSON)")
    .option("--log-level <level>", `log level: ${LEVELS.join(", ")} (default info, or SUBFLASH_LOG_LEVEL)`)
    .option(
      "--simulate <file>",
      "run simulated modules instead of the hardware (see docs/getting-started.md)",
    )
    .option("--max-bundle-bytes <n>", `largest bundle accepted (default ${DEFAULT_MAX_BUNDLE_BYTES})`)
    .option(
      "--accept-state-loss",
      "state.json was lost: take the sequence floor from the journal and accept bundles again",
    )
    .option("--check", "validate the configuration (and --simulate file), print a summary and exit")
    .action(action("daemon", (flags: DaemonFlags) => daemon(flags)));
}

async function daemon(flags: DaemonFlags): Promise<number> {
  const level = flags.logLevel ?? process.env.SUBFLASH_LOG_LEVEL ?? "info";
  if (!LEVELS.includes(level))
    throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}, got "${level}"`);
  const maxBundleBytes =
    flags.maxBundleBytes !== undefined
      ? parseNumber(flags.maxBundleBytes, "--max-bundle-bytes")
      : DEFAULT_MAX_BUNDLE_BYTES;

  let config: GatewayConfig;
  try {
    config = loadConfig(flags.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `subflash daemon: invalid configuration ${error.file}:\n  ${error.problems.join("\n  ")}\n`,
    );
    return ExitCode.usage;
  }
  if (!config.mqtt) {
    process.stderr.write(
      `subflash daemon: invalid configuration ${flags.config}:\n  mqtt: required to run the daemon (url of the broker)\n`,
    );
    return ExitCode.usage;
  }
  let simOptions: ReturnType<typeof loadSimSpec> | undefined;
  if (flags.simulate !== undefined) {
    try {
      simOptions = loadSimSpec(flags.simulate, config);
    } catch (error) {
      process.stderr.write(`subflash daemon: invalid simulation file ${describeError(error)}\n`);
      return ExitCode.usage;
    }
  }
  if (flags.check) {
    const sim = simOptions ? " (simulated)" : "";
    process.stdout.write(
      `configuration OK: gateway ${config.gateway.id}, ${config.modules.length} module(s)${sim}, broker ${config.mqtt.url}\n`,
    );
    return ExitCode.ok;
  }

  // Synchronous writes: nothing is lost when the process exits right after a line (journald reads stdout).
  const logger = pino(
    { level, redact: { paths: REDACT, censor: "[redacted]" }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 1, sync: true }),
  );
  // The effective configuration, for the record; the password is redacted by the logger.
  logger.info(
    {
      config: {
        gateway: config.gateway,
        mqtt: config.mqtt,
        stateDir: config.stateDir,
        trustStore: config.trustStore,
        modules: config.modules.map((m) => m.id),
      },
    },
    "configuration loaded",
  );
  const signals = waitForSignal();
  let sims: SimModules | null = null;
  try {
    if (simOptions) {
      sims = createSimModules(config, (m) => ({ ...simOptions(m), logger }));
      logger.warn({ modules: config.modules.map((m) => m.id) }, "running SIMULATED modules (--simulate)");
    }
    const killAt = process.env.SUBFLASH_TEST_KILL_AT;
    const engine = new UpdateEngine({
      config,
      logger,
      ...(sims ? { targets: sims.targets } : {}),
      ...(flags.acceptStateLoss ? { acceptStateLoss: true } : {}),
      // Crash tests only: a real SIGKILL at a named point (e.g. between receipt and journal).
      ...(killAt ? { crashPoint: (point) => point === killAt && process.kill(process.pid, "SIGKILL") } : {}),
    });
    const startup = startGatewayService({
      engine,
      gateway: config.gateway,
      mqtt: config.mqtt,
      logger,
      maxBundleBytes,
    });
    const first = await Promise.race([startup.then(() => null), signals.next]);
    const service = await startup;
    const signal = first ?? (await signals.next);
    logger.info({ signal }, "signal received; stopping");
    signals.onAgain((again) => {
      logger.warn({ signal: again }, "second signal: exiting at once");
      process.exit(ExitCode.failed);
    });
    await service.stop();
    return ExitCode.ok;
  } catch (error) {
    logger.fatal({ err: describeError(error) }, "gateway failed");
    process.stderr.write(`subflash daemon: ${describeError(error)}\n`);
    // Fail fast: whatever handle is left open (a socket, a port) must not keep a failed gateway
    // alive, where systemd cannot restart it and monitoring sees it up (issue 10, defect 1).
    setTimeout(() => process.exit(ExitCode.failed), FATAL_EXIT_GRACE_MS).unref();
    return ExitCode.failed;
  } finally {
    await sims?.close();
    signals.dispose();
  }
}

/** The first SIGTERM/SIGINT as a promise, and a hook for a second one. */
function waitForSignal(): {
  next: Promise<NodeJS.Signals>;
  onAgain(fn: (signal: NodeJS.Signals) => void): void;
  dispose(): void;
} {
  let again: ((signal: NodeJS.Signals) => void) | null = null;
  let fired = false;
  let resolveFirst!: (signal: NodeJS.Signals) => void;
  const next = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const handler = (signal: NodeJS.Signals): void => {
    if (!fired) {
      fired = true;
      resolveFirst(signal);
    } else {
      again?.(signal);
    }
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    next,
    onAgain: (fn) => (again = fn),
    dispose: () => {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
  };
}
