/**
 * `subflash daemon --config <file>`: the gateway. JSON logs (pino) on stdout for journald, one config
 * file validated at start (every problem listed, exit 2), state in the configured directory.
 * SIGTERM/SIGINT stop it cleanly: no new bundles, the engine halts at a journalled point (the next
 * start resumes or rolls back), final status and online = offline are published, exit 0.
 *
 * `--simulate <file>` runs simulated modules in place of the hardware (docs/getting-started.md).
 */
import { mkdir } from "node:fs/promises";
import type { Command } from "commander";
import { loadConfig } from "../../gateway/index.js";
import type { GatewayConfig } from "../../gateway/index.js";
import { UpdateEngine } from "../../gateway/index.js";
import { ConfigError } from "../../gateway/index.js";
import { DEFAULT_MAX_BUNDLE_BYTES } from "../../mqtt/gateway/index.js";
import { startGatewayService } from "../../mqtt/gateway/index.js";
import { GatewayMetrics, startHttpServer } from "../../http/index.js";
import { createSimModules } from "../../sim/index.js";
import type { SimModules } from "../../sim/index.js";
import { armKillPoint, loadSimSpec, parseKillPoint } from "../../sim/index.js";
import { describeError } from "../../util/errors.js";
import { createServiceLogger } from "../../util/service-logger.js";
import { acquireStateLock, GatewayError, type StateLock } from "../../gateway/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface DaemonFlags {
  config: string;
  logLevel?: string;
  simulate?: string;
  maxBundleBytes?: string;
  check?: boolean;
  json?: boolean;
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
      "--check",
      "check everything the daemon needs (configuration, trust store, state directory and lock, module devices, gpioset, broker URL), print each result and exit: 0 only if all pass",
    )
    .option("--json", "with --check: one JSON object on stdout")
    .option(
      "--accept-state-loss",
      "acknowledge a state-lost or state-disagrees refusal: keep the highest floors found (state.json, floors.json, journal) and accept bundles again",
    )
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
  if (flags.check) return check(flags, config, simOptions !== undefined);

  // JSON lines on stdout, which journald reads (with <priority> prefixes under systemd).
  const logger = createServiceLogger({ level, fd: 1, redact: REDACT });
  // The effective configuration, for the record; the password is redacted by the logger.
  logger.info(
    {
      config: {
        gateway: config.gateway,
        mqtt: config.mqtt,
        stateDir: config.stateDir,
        trustStore: config.trustStore,
        http: config.http
          ? { listen: config.http.listen, token: config.http.token ? "[redacted]" : undefined }
          : null,
        modules: config.modules.map((m) => m.id),
      },
    },
    "configuration loaded",
  );
  // One daemon per state directory: a second one would corrupt the journal.
  let lock: StateLock | null = null;
  try {
    await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
    lock = await acquireStateLock(config.stateDir);
  } catch (error) {
    if (error instanceof GatewayError && error.code === "state-locked") {
      // Another daemon runs on this state directory and owns the gateway's online topic: leave it be.
      logger.fatal(
        { err: describeError(error), stateDir: config.stateDir },
        "cannot lock the state directory",
      );
      process.stderr.write(`subflash daemon: ${describeError(error)}\n`);
      return ExitCode.failed;
    }
    // An unusable state directory (a file, no permission…): the engine's start refuses it by name and
    // the service publishes offline on the way out (fail closed, issue 10 defect 1).
  }
  const signals = waitForSignal();
  let sims: SimModules | null = null;
  try {
    if (simOptions) {
      sims = createSimModules(config, (m) => ({ ...simOptions(m), logger }));
      logger.warn({ modules: config.modules.map((m) => m.id) }, "running SIMULATED modules (--simulate)");
    }
    const killAt = process.env.SUBFLASH_TEST_KILL_AT;
    // Crash tests only: a real SIGKILL at a deterministic point (src/sim/world/kill-point.ts).
    const killHooks = killAt
      ? armKillPoint(parseKillPoint(killAt), sims, () => process.kill(process.pid, "SIGKILL"))
      : {};
    const engine = new UpdateEngine({
      config,
      logger,
      ...(sims ? { targets: sims.targets } : {}),
      ...(flags.acceptStateLoss ? { acceptStateLoss: true } : {}),
      ...killHooks,
    });
    const startup = startGatewayService({
      engine,
      gateway: config.gateway,
      mqtt: config.mqtt,
      logger,
      maxBundleBytes,
      modules: config.modules.map((m) => m.id),
      homeAssistant: config.homeAssistant,
    });
    const first = await Promise.race([startup.then(() => null), signals.next]);
    const service = await startup;
    const metrics = config.http ? new GatewayMetrics({ engine, connection: service.connection }) : null;
    const http =
      config.http && metrics
        ? await startHttpServer({
            listen: config.http.listen,
            token: config.http.token,
            engine,
            metrics,
            mqttConnected: () => service.connection.connected,
            logger,
          })
        : null;
    const signal = first ?? (await signals.next);
    logger.info({ signal }, "signal received; stopping");
    signals.onAgain((again) => {
      logger.warn({ signal: again }, "second signal: exiting at once");
      process.exit(ExitCode.failed);
    });
    await http?.close();
    metrics?.stop();
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
    await lock?.release();
  }
}

/** `--check`: every result on its own line (or one JSON object); exit 0 only when none failed. */
async function check(flags: DaemonFlags, config: GatewayConfig, simulated: boolean): Promise<number> {
  const { checkGateway } = await import("../daemon-check.js");
  const results = [
    {
      check: "configuration",
      field: "(file)",
      path: flags.config,
      status: "ok" as const,
      detail: `gateway ${config.gateway.id}, ${config.modules.length} module(s)${simulated ? " (simulated)" : ""}`,
    },
    ...(await checkGateway(config, { simulated })),
  ];
  const failed = results.filter((r) => r.status === "fail").length;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: failed === 0, simulated, results })}\n`);
  } else {
    for (const r of results) {
      const mark = r.status === "ok" ? "ok  " : r.status === "fail" ? "FAIL" : "skip";
      process.stdout.write(`${mark}  ${r.check}  ${r.field}${r.path ? `  ${r.path}` : ""}: ${r.detail}\n`);
    }
    process.stdout.write(
      failed === 0
        ? `all checks passed${simulated ? " (modules simulated: their devices were not checked)" : ""}\n`
        : `${failed} check(s) failed\n`,
    );
  }
  return failed === 0 ? ExitCode.ok : ExitCode.failed;
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
