/**
 * Clearing a retired gateway off the broker: every retained message under `{prefix}/{gw}/` (online,
 * status, module status, Home Assistant entity states), under `{prefix}/in/{gw}/` (a retained bundle or
 * command), and its Home Assistant discovery configs. The broker hands the retained messages over on
 * subscribe; each is deleted with a zero-length retained message (MQTT 5 §3.3.1.3). A gateway that
 * still says `online` is left alone unless forced: it would publish everything again.
 */
import type { MqttConnection } from "../connection/connection.js";
import { gatewayTopics, IN_LEVEL, ONLINE } from "../contract/topics.js";
import { MqttError } from "../errors.js";

export interface RetireOptions {
  prefix: string;
  gateway: string;
  /** Home Assistant discovery prefix; null: leave discovery alone. */
  haPrefix: string | null;
  force?: boolean;
  /** List what would be cleared without clearing it. */
  dryRun?: boolean;
  /** Retained messages arrive right after SUBACK; stop collecting after this long without one. */
  quietMs?: number;
}

export async function retireGateway(connection: MqttConnection, opts: RetireOptions): Promise<string[]> {
  const topics = gatewayTopics(opts.prefix, opts.gateway);
  const node = `subflash_${opts.gateway.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  const filters = [`${opts.prefix}/${opts.gateway}/#`, `${opts.prefix}/${IN_LEVEL}/${opts.gateway}/#`];
  if (opts.haPrefix !== null) filters.push(`${opts.haPrefix}/+/${node}/+/config`);
  const found = new Map<string, string>();
  let last = Date.now();
  const onMessage = (m: { topic: string; payload: Uint8Array; retain: boolean }): void => {
    if (!m.retain || m.payload.length === 0) return;
    found.set(m.topic, m.topic === topics.online ? new TextDecoder().decode(m.payload).trim() : "");
    last = Date.now();
  };
  connection.on("message", onMessage);
  try {
    await connection.subscribe(filters.map((filter) => ({ filter, qos: 1 as const })));
    const quiet = opts.quietMs ?? 500;
    const started = Date.now();
    last = Math.max(last, started);
    while (Date.now() - last < quiet && Date.now() - started < 10_000)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.unsubscribe(filters);
  } finally {
    connection.off("message", onMessage);
  }
  if (found.get(topics.online) === ONLINE && !opts.force) {
    throw new MqttError(
      "gateway-online",
      `gateway ${opts.gateway} says it is online: stop it first (or --force; a running gateway publishes its status again)`,
      { gateway: opts.gateway },
    );
  }
  const cleared = [...found.keys()].sort();
  if (!opts.dryRun)
    for (const topic of cleared) await connection.publishAndWait(topic, "", { qos: 1, retain: true });
  return cleared;
}
