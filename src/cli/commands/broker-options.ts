/**
 * Broker options shared by the operator commands (publish, status, rollback/cancel/retry), and the
 * connection they open. The password may come from SUBFLASH_MQTT_PASSWORD so that it does not show
 * in `ps` output or shell history.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { MqttConnection } from "../../mqtt/operator/index.js";
import { connectOperator } from "../../mqtt/operator/index.js";
import { assertPrefix, DEFAULT_PREFIX } from "../../mqtt/operator/index.js";
import { parseBrokerUrl } from "../../util/broker-url.js";
import { UsageError } from "../run.js";

export interface BrokerFlags {
  broker: string;
  prefix: string;
  username?: string;
  password?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  mqttVersion?: string;
  connectTimeout?: string;
}

export function addBrokerOptions(command: Command): Command {
  return command
    .requiredOption(
      "--broker <url>",
      "MQTT broker: host:port, or an mqtt://, mqtts://, ws:// or wss:// URL (or set SUBFLASH_BROKER)",
      process.env.SUBFLASH_BROKER,
    )
    .option("--prefix <prefix>", "topic prefix", DEFAULT_PREFIX)
    .option("--username <name>", "MQTT user name")
    .option("--password <password>", "MQTT password (or set SUBFLASH_MQTT_PASSWORD)")
    .option("--tls-ca <file>", "CA certificate (PEM) to trust for mqtts:// or wss://")
    .option("--tls-cert <file>", "client certificate (PEM)")
    .option("--tls-key <file>", "client private key (PEM)")
    .option("--insecure", "do not verify the broker's TLS certificate")
    .option("--mqtt-version <v>", "highest MQTT version to try: 5 (falls back to 3.1.1) or 4", "5")
    .option("--connect-timeout <s>", "seconds to wait for the broker", "10");
}

/** Opens the operator connection the flags describe. */
export async function connectFromFlags(flags: BrokerFlags): Promise<MqttConnection> {
  if (!flags.broker) throw new UsageError("--broker <url> is required (or set SUBFLASH_BROKER)");
  const broker = brokerFromFlag(flags.broker);
  try {
    assertPrefix(flags.prefix);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/ \[[a-z-]+\]$/, ""));
  }
  const version =
    flags.mqttVersion === "4" ? 4 : flags.mqttVersion === "5" || flags.mqttVersion === undefined ? 5 : null;
  if (version === null) throw new UsageError(`--mqtt-version must be 5 or 4, got "${flags.mqttVersion}"`);
  const timeoutSeconds = Number(flags.connectTimeout ?? "10");
  if (!(timeoutSeconds > 0)) throw new UsageError(`--connect-timeout must be a positive number of seconds`);
  const password = flags.password ?? process.env.SUBFLASH_MQTT_PASSWORD;
  const tls = {
    ...(flags.tlsCa ? { ca: readPem(flags.tlsCa, "--tls-ca") } : {}),
    ...(flags.tlsCert ? { cert: readPem(flags.tlsCert, "--tls-cert") } : {}),
    ...(flags.tlsKey ? { key: readPem(flags.tlsKey, "--tls-key") } : {}),
    ...(flags.insecure ? { rejectUnauthorized: false } : {}),
  };
  return connectOperator({
    broker,
    protocolVersion: version,
    connectTimeoutMs: timeoutSeconds * 1000,
    ...(flags.username !== undefined ? { username: flags.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  });
}

/** The --broker value as a URL (host:port → mqtt://host:port); a usage error says what is wrong. */
export function brokerFromFlag(value: string, option = "--broker"): string {
  try {
    return parseBrokerUrl(value);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message.replace(/ \[bad-url\]$/, "")}`);
  }
}

function readPem(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${option} ${path}: ${(error as Error).message}`);
  }
}
