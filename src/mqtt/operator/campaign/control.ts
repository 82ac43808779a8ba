/**
 * `campaign pause|resume|approve|abort|status` from any terminal: control goes through retained
 * desired-state topics (so a controller that is restarting still finds it), status comes from the
 * controller's retained state.
 */
import type { InboundMessage, MqttConnection } from "../../connection/connection.js";
import { campaignStateFilter, campaignTopics, decodeCampaignSnapshot } from "../../contract/campaign.js";
import type { CampaignSnapshot } from "../../contract/campaign.js";
import { DEFAULT_PREFIX } from "../../contract/topics.js";

export type CampaignAction =
  { action: "pause" } | { action: "resume" } | { action: "approve"; wave?: number } | { action: "abort" };

/**
 * Publishes a control message. `approve` without a wave approves the next wave waiting for
 * approval (the current one in the retained state).
 */
export async function sendCampaignControl(
  connection: MqttConnection,
  id: string,
  control: CampaignAction,
  opts: { prefix?: string; by: string; current?: CampaignSnapshot | null },
): Promise<string> {
  const topics = campaignTopics(opts.prefix ?? DEFAULT_PREFIX, id);
  const at = new Date().toISOString();
  const send = async (topic: string, body: Record<string, unknown>): Promise<string> => {
    await connection.publishAndWait(topic, JSON.stringify({ ...body, by: opts.by, at }), {
      qos: 1,
      retain: true,
    });
    return topic;
  };
  switch (control.action) {
    case "pause":
      return send(topics.paused, { paused: true });
    case "resume":
      return send(topics.paused, { paused: false });
    case "abort":
      return send(topics.abort, { abort: true });
    case "approve": {
      const wave = control.wave ?? opts.current?.currentWave ?? 1;
      return send(topics.approved, { wave });
    }
  }
}

/** Follows the retained state of one campaign, or of every campaign under the prefix. */
export class CampaignWatcher {
  readonly campaigns = new Map<string, CampaignSnapshot>();
  readonly problems: string[] = [];
  readonly #connection: MqttConnection;
  readonly #filter: string;
  readonly #listeners = new Set<(snapshot: CampaignSnapshot) => void>();
  #lastAt = 0;

  constructor(connection: MqttConnection, opts: { prefix?: string; id?: string } = {}) {
    this.#connection = connection;
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#filter =
      opts.id === undefined ? campaignStateFilter(prefix) : campaignTopics(prefix, opts.id).state;
  }

  async start(): Promise<void> {
    this.#connection.on("message", this.#onMessage);
    await this.#connection.subscribe([{ filter: this.#filter, qos: 1 }]);
  }

  stop(): void {
    this.#connection.off("message", this.#onMessage);
  }

  onChange(listener: (snapshot: CampaignSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits until retained messages stop arriving. */
  async settle(quietMs = 300, maxMs = 3000): Promise<void> {
    const started = Date.now();
    this.#lastAt = Math.max(this.#lastAt, started);
    while (Date.now() - started < maxMs && Date.now() - this.#lastAt < quietMs)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Resolves with the snapshot once `predicate` holds for campaign `id`. */
  until(
    id: string,
    predicate: (s: CampaignSnapshot) => boolean,
    timeoutMs: number,
  ): Promise<CampaignSnapshot> {
    const now = this.campaigns.get(id);
    if (now && predicate(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `campaign ${id}: condition not met within ${timeoutMs} ms (state ${this.campaigns.get(id)?.state ?? "unknown"})`,
          ),
        );
      }, timeoutMs);
      const off = this.onChange((s) => {
        if (s.id !== id || !predicate(s)) return;
        clearTimeout(timer);
        off();
        resolve(s);
      });
    });
  }

  readonly #onMessage = (message: InboundMessage): void => {
    const match = message.topic.split("/");
    const filter = this.#filter.split("/");
    if (match.length !== filter.length || !filter.every((f, i) => f === "+" || f === match[i])) return;
    this.#lastAt = Date.now();
    if (message.payload.length === 0) return;
    try {
      const snapshot = decodeCampaignSnapshot(message.payload, message.topic);
      this.campaigns.set(snapshot.id, snapshot);
      for (const listener of this.#listeners) listener(snapshot);
    } catch (error) {
      this.problems.push((error as Error).message);
    }
  };
}
