/**
 * The campaign controller: an MQTT client that rolls one signed bundle out in waves, with no server
 * and no database (design decision 13). It reads the fleet from retained topics (online, status,
 * inventory), decides, journals each decision before acting on it (journal.ts), sends the bundle per
 * gateway, follows each gateway's retained status for the outcome, stops itself on the abort
 * criteria (emergency stop: signed cancel to gateways still updating, nothing new started), and
 * publishes its own state retained under `{prefix}/campaigns/{id}/`.
 *
 * Everything happens in `tick()`, run on every relevant message and on a timer, one at a time.
 */
import { createHash } from "node:crypto";
import { hostname, userInfo } from "node:os";
import type { Manifest } from "../../../manifest/index.js";
import { signCommand } from "../../../manifest/index.js";
import type { SigningKey } from "../../../signing/index.js";
import { TypedEmitter } from "../../../util/events.js";
import { describeError } from "../../../util/errors.js";
import { silentLogger } from "../../../util/logger.js";
import type { Logger } from "../../../util/logger.js";
import type { InboundMessage, MqttConnection } from "../../connection/connection.js";
import { decodeControl, FINAL_OUTCOMES, campaignTopics } from "../../contract/campaign.js";
import type { CampaignDecision, CampaignSnapshot, CampaignTopics } from "../../contract/campaign.js";
import { decodeGatewayStatus, decodeInventory, decodeOnline } from "../../contract/contract.js";
import type { WireGatewayStatus, WireInventory } from "../../contract/contract.js";
import { DEFAULT_PREFIX, gatewayTopics, parseStatusTopic } from "../../contract/topics.js";
import { sendCommand } from "../operator.js";
import { peekBundle } from "../peek.js";
import { CampaignError } from "./errors.js";
import { CampaignJournal } from "./journal.js";
import type { CampaignRecord, GatewayRecord } from "./journal.js";
import { failedModules, observe } from "./outcome.js";
import { planCampaign } from "./plan.js";
import { snapshotOf } from "./snapshot.js";
import { abortReason, advanceWaves } from "./waves.js";
import type { CampaignSpec } from "./spec.js";

export interface CampaignControllerOptions {
  connection: MqttConnection;
  spec: CampaignSpec;
  bundle: Uint8Array;
  /** Signs the cancel commands of an emergency stop. */
  key: SigningKey;
  stateDir: string;
  prefix?: string;
  logger?: Logger;
  /** Quiet time that ends the wait for retained messages at start. Default 500 ms. */
  settleMs?: number;
  /** Timer between ticks. Default 200 ms. */
  tickMs?: number;
}

export interface CampaignEvents {
  change: [CampaignSnapshot];
  decision: [CampaignDecision];
}

const MAX_PUBLISHED_DECISIONS = 100;

export class CampaignController extends TypedEmitter<CampaignEvents> {
  readonly topics: CampaignTopics;
  readonly #opts: CampaignControllerOptions;
  readonly #prefix: string;
  readonly #manifest: Manifest;
  readonly #digest: string;
  readonly #log: Logger;
  readonly #online = new Map<string, boolean>();
  readonly #status = new Map<string, WireGatewayStatus>();
  readonly #inventory = new Map<string, WireInventory>();
  readonly #control = new Map<string, Record<string, unknown>>();
  #journal: CampaignJournal | null = null;
  #lastMessageAt = 0;
  #ticking = false;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #tokens = 1;
  #refilledAt = Date.now();
  #lastPublished = "";
  #finished!: (snapshot: CampaignSnapshot) => void;
  #failed!: (error: unknown) => void;
  readonly #done = new Promise<CampaignSnapshot>((resolve, reject) => {
    this.#finished = resolve;
    this.#failed = reject;
  });
  /** When the last gateway of the previous wave got its outcome (decision latency, for the bench). */
  readonly waveTimes: Array<{ wave: number; startedAt: number; lastOutcomeAt: number | null }> = [];

  constructor(opts: CampaignControllerOptions) {
    super();
    this.#opts = opts;
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.topics = campaignTopics(this.#prefix, opts.spec.id);
    const peek = peekBundle(opts.bundle);
    if (!peek.ok) throw new CampaignError("bundle-invalid", `campaign ${opts.spec.id}: ${peek.reason}`);
    this.#manifest = peek.manifest;
    this.#digest = createHash("sha256").update(opts.bundle).digest("hex");
    this.#log = (opts.logger ?? silentLogger).child({ component: "campaign", campaign: opts.spec.id });
  }

  get record(): CampaignRecord | null {
    return this.#journal?.record ?? null;
  }

  snapshot(): CampaignSnapshot | null {
    const record = this.record;
    return record && snapshotOf(record, new Date().toISOString());
  }

  /** Runs the campaign to its end (completed or aborted); resumes from the journal when there is one. */
  async run(): Promise<CampaignSnapshot> {
    const { connection } = this.#opts;
    connection.on("message", this.#onMessage);
    try {
      await connection.subscribe(
        [
          `${this.#prefix}/+/online`,
          `${this.#prefix}/+/status`,
          `${this.#prefix}/+/inventory`,
          this.topics.controlFilter,
        ].map((filter) => ({ filter, qos: 1 as const })),
      );
      await this.#settle();
      this.#journal = await CampaignJournal.open(this.#opts.stateDir, this.#opts.spec.id);
      await this.#openRecord();
      this.#timer = setInterval(() => this.#kick(), this.#opts.tickMs ?? 200);
      this.#kick();
      return await this.#done;
    } finally {
      if (this.#timer) clearInterval(this.#timer);
      connection.off("message", this.#onMessage);
    }
  }

  async #settle(): Promise<void> {
    const quiet = this.#opts.settleMs ?? 500;
    const started = Date.now();
    this.#lastMessageAt = Math.max(this.#lastMessageAt, started);
    while (Date.now() - started < 10_000 && Date.now() - this.#lastMessageAt < quiet)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async #openRecord(): Promise<void> {
    const journal = this.#journal!;
    const existing = journal.record;
    const spec = this.#opts.spec;
    if (existing) {
      if (existing.bundleSha256 !== this.#digest)
        throw new CampaignError(
          "journal-mismatch",
          `${journal.path} holds campaign ${existing.id} with another bundle (${existing.release}, sequence ${existing.sequence})`,
          { path: journal.path },
        );
      this.#decide("resume-run", "controller started again; continuing from the journal");
      await journal.save();
      return;
    }
    const plan = planCampaign(spec, this.#manifest, this.#inventory);
    const now = new Date().toISOString();
    const gateways: Record<string, GatewayRecord> = {};
    for (const g of plan.gateways) {
      gateways[g.gateway] = {
        wave: g.wave,
        outcome: g.already ? "already" : "pending",
        sentAt: null,
        finishedAt: g.already ? now : null,
        offlineSince: null,
        error: g.already ? { code: "already", message: g.already } : null,
        modules: [],
        late: null,
        cancelSent: false,
      };
    }
    const record: CampaignRecord = {
      format: 1,
      id: spec.id,
      bundleSha256: this.#digest,
      release: this.#manifest.release,
      sequence: this.#manifest.sequence,
      state: "planning",
      reason: null,
      startedAt: now,
      finishedAt: null,
      paused: false,
      abortRequested: false,
      approvedUpTo: 0,
      waves: spec.waves.map((w, i) => ({
        index: i + 1,
        name: w.name ?? null,
        size: plan.waveSizes[i] ?? 0,
        approval: w.approval,
        minSuccessPercentage: w.minSuccessPercentage ?? spec.minSuccessPercentage,
        soakSeconds: w.soakSeconds ?? spec.soakSeconds,
        startedAt: null,
        finishedAt: null,
        soakUntil: null,
      })),
      gateways,
      ineligible: plan.ineligible,
      decisions: [],
    };
    await journal.create(record);
    // Control messages retained before this campaign existed (an earlier run under the same id) do not steer it.
    for (const [topic, message] of this.#control) this.#seen.set(topic, controlTime(message));
    this.#decide(
      "plan",
      `${plan.gateways.length} eligible gateways in ${plan.waveSizes.length} waves (${plan.waveSizes.join(", ")}), ${plan.ineligible.length} ineligible`,
    );
    for (const entry of plan.ineligible) this.#decide("ineligible", entry.reason, { gateway: entry.gateway });
    record.state = "running";
    await journal.save();
  }

  readonly #seen = new Map<string, string>();

  readonly #onMessage = (message: InboundMessage): void => {
    this.#lastMessageAt = Date.now();
    const { topic, payload } = message;
    if (topic.startsWith(this.topics.controlFilter.slice(0, -1))) {
      const value = decodeControl(payload);
      if (value) this.#control.set(topic, value);
      this.#kick();
      return;
    }
    const parsed = parseStatusTopic(this.#prefix, topic);
    if (!parsed) return;
    try {
      if (parsed.kind === "online") {
        if (payload.length === 0) this.#online.delete(parsed.gateway);
        else this.#online.set(parsed.gateway, decodeOnline(payload, topic));
      } else if (parsed.kind === "gateway-status") {
        if (payload.length === 0) this.#status.delete(parsed.gateway);
        else this.#status.set(parsed.gateway, decodeGatewayStatus(payload, topic));
      } else if (parsed.kind === "inventory") {
        if (payload.length === 0) this.#inventory.delete(parsed.gateway);
        else this.#inventory.set(parsed.gateway, decodeInventory(payload, topic));
      } else return;
    } catch (error) {
      this.#log.warn({ topic, err: describeError(error) }, "message ignored");
      return;
    }
    if (this.record?.gateways[parsed.gateway]) this.#kick();
  };

  #kick(): void {
    if (!this.#journal?.record) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          await this.#tick();
        } while (this.#again);
      } catch (error) {
        this.#log.error({ err: describeError(error) }, "campaign tick failed");
        this.#failed(error);
      } finally {
        this.#ticking = false;
      }
    })();
  }

  async #tick(): Promise<void> {
    const journal = this.#journal!;
    const r = journal.current;
    if (r.state === "completed" || r.state === "aborted") {
      this.#publish(r);
      this.#finished(snapshotOf(r, new Date().toISOString()));
      return;
    }
    this.#applyControl(r);
    this.#observeOutcomes(r);
    this.#checkAbort(r);
    if (r.state === "aborting") {
      await journal.save();
      await this.#cancelRunning(r);
      if (!Object.values(r.gateways).some((g) => g.outcome === "in-progress" || g.outcome === "sending")) {
        r.state = "aborted";
        r.finishedAt = new Date().toISOString();
        this.#decide("aborted", `campaign aborted: ${r.reason ?? "emergency stop"}`);
      }
      await journal.save();
      this.#publish(r);
      return;
    }
    this.#advanceWaves(r);
    await journal.save();
    if (r.state === "running") await this.#sendDue(r);
    this.#publish(r);
  }

  #applyControl(r: CampaignRecord): void {
    for (const [topic, value] of this.#control) {
      const at = controlTime(value);
      if (this.#seen.get(topic) === at) continue;
      this.#seen.set(topic, at);
      const by = typeof value.by === "string" ? value.by : "someone";
      if (topic === this.topics.abort && value.abort === true && !r.abortRequested) {
        r.abortRequested = true;
        this.#abort(r, `emergency stop by ${by}`);
      } else if (
        topic === this.topics.paused &&
        typeof value.paused === "boolean" &&
        value.paused !== r.paused
      ) {
        r.paused = value.paused;
        this.#decide(value.paused ? "pause" : "resume", `${value.paused ? "paused" : "resumed"} by ${by}`);
        if (!value.paused) r.reason = null;
      } else if (
        topic === this.topics.approved &&
        typeof value.wave === "number" &&
        value.wave > r.approvedUpTo
      ) {
        r.approvedUpTo = value.wave;
        this.#decide("approve", `wave ${value.wave} approved by ${by}`, { wave: value.wave });
      }
    }
  }

  #observeOutcomes(r: CampaignRecord): void {
    const now = Date.now();
    const iso = new Date(now).toISOString();
    for (const [gateway, g] of Object.entries(r.gateways)) {
      if (FINAL_OUTCOMES.has(g.outcome)) {
        // The inventory may trail the outcome (another topic): keep taking its latest word.
        if (g.outcome === "failed") {
          const modules = failedModules(this.#inventory.get(gateway));
          if (modules.length > 0) g.modules = modules;
        }
        if ((g.outcome === "timed-out" || g.outcome === "cancelled") && g.sentAt && !g.late) {
          const seen = observe(this.#status.get(gateway), r.sequence);
          if ("error" in seen && seen.outcome !== g.outcome) g.late = seen.outcome;
        }
        continue;
      }
      if (g.outcome !== "in-progress" && g.outcome !== "sending") continue;
      const seen = observe(this.#status.get(gateway), r.sequence);
      if ("error" in seen) {
        g.outcome = seen.outcome;
        g.error = seen.error;
        g.finishedAt = iso;
        if (seen.outcome === "failed") g.modules = failedModules(this.#inventory.get(gateway));
        this.#decide("outcome", `${seen.outcome}${seen.error ? `: ${seen.error.code}` : ""}`, {
          gateway,
          wave: g.wave,
        });
        const times = this.waveTimes.find((w) => w.wave === g.wave);
        if (times) times.lastOutcomeAt = now;
        continue;
      }
      if (seen.outcome === "in-progress" && g.outcome === "sending") g.outcome = "in-progress";
      const timeoutMs = this.#opts.spec.gatewayTimeoutSeconds * 1000;
      if (g.sentAt && now - Date.parse(g.sentAt) > timeoutMs) {
        g.outcome = "timed-out";
        g.finishedAt = iso;
        g.error = {
          code: "timed-out",
          message: `no outcome within ${this.#opts.spec.gatewayTimeoutSeconds} s`,
        };
        this.#decide("outcome", "timed-out", { gateway, wave: g.wave });
      }
    }
  }

  #checkAbort(r: CampaignRecord): void {
    if (r.state === "aborting") return;
    const reason = abortReason(r, this.#opts.spec.abort);
    if (reason !== undefined) this.#abort(r, reason);
  }

  #abort(r: CampaignRecord, reason: string): void {
    if (r.state === "aborting" || r.state === "aborted" || r.state === "completed") return;
    r.state = "aborting";
    r.reason = reason;
    this.#decide("abort", reason);
    for (const [gateway, g] of Object.entries(r.gateways)) {
      if (g.outcome === "pending" || g.outcome === "waiting-offline") {
        g.outcome = "skipped";
        g.finishedAt = new Date().toISOString();
        void gateway;
      }
    }
  }

  /** Emergency stop: a signed cancel to every gateway still updating (once each, journalled first). */
  async #cancelRunning(r: CampaignRecord): Promise<void> {
    const targets = Object.entries(r.gateways).filter(
      ([, g]) => (g.outcome === "in-progress" || g.outcome === "sending") && !g.cancelSent,
    );
    if (targets.length === 0) return;
    for (const [gateway, g] of targets) {
      g.cancelSent = true;
      this.#decide("cancel", "signed cancel sent", { gateway, wave: g.wave });
    }
    await this.#journal!.save();
    const now = Math.floor(Date.now() / 1000);
    await Promise.all(
      targets.map(async ([gateway], i) => {
        const command = signCommand(
          {
            formatVersion: 1,
            kind: "cancel",
            gateway,
            sequence: Date.now() + i,
            issuedAt: now - 5,
            expires: now + 600,
            bundle: { sequence: r.sequence, release: r.release },
          },
          [this.#opts.key],
        );
        try {
          const response = await sendCommand(this.#opts.connection, {
            gateway,
            command,
            prefix: this.#prefix,
            timeoutMs: 15_000,
          });
          this.#log.info({ gateway, status: response.status, code: response.error?.code }, "cancel answered");
        } catch (error) {
          this.#log.warn({ gateway, err: describeError(error) }, "cancel not answered");
        }
      }),
    );
  }

  #advanceWaves(r: CampaignRecord): void {
    const now = Date.now();
    const step = advanceWaves(r, now, (kind, text, extra) => this.#decide(kind, text, extra));
    for (const wave of step.started) this.waveTimes.push({ wave, startedAt: now, lastOutcomeAt: null });
    if (step.autoPausedAt !== undefined) {
      // Retained like an operator's pause, so every controller and dashboard sees it.
      this.#opts.connection.setRetained(
        this.topics.paused,
        JSON.stringify({ paused: true, by: "campaign controller", at: step.autoPausedAt }),
      );
      this.#seen.set(this.topics.paused, step.autoPausedAt);
    }
  }

  /** Sends the bundle to the current wave's gateways that are due, within the rate limit. */
  async #sendDue(r: CampaignRecord): Promise<void> {
    const wave = r.waves.find((w) => w.startedAt && !w.finishedAt);
    if (!wave || r.paused) return;
    const spec = this.#opts.spec;
    const now = Date.now();
    const iso = new Date(now).toISOString();
    const toSend: string[] = [];
    for (const [gateway, g] of Object.entries(r.gateways)) {
      if (g.wave !== wave.index) continue;
      if (g.outcome !== "pending" && g.outcome !== "waiting-offline" && g.outcome !== "sending") continue;
      const seen = observe(this.#status.get(gateway), r.sequence);
      if (seen.outcome === "in-progress" || ("error" in seen && g.outcome === "sending")) {
        // A re-run: the gateway already has the bundle; never send it twice.
        g.outcome = "in-progress";
        g.sentAt ??= iso;
        continue;
      }
      if (seen.outcome === "already") {
        g.outcome = "already";
        g.error = seen.error;
        g.finishedAt = iso;
        this.#decide("outcome", `already: ${seen.error?.message ?? ""}`, { gateway, wave: g.wave });
        continue;
      }
      if (this.#online.get(gateway) !== true) {
        g.offlineSince ??= iso;
        const waited = now - Date.parse(g.offlineSince);
        if (spec.offline.policy === "timed-out" || waited > spec.offline.waitSeconds * 1000) {
          g.outcome = "timed-out";
          g.finishedAt = iso;
          g.error = {
            code: "offline",
            message: `offline when its wave started${spec.offline.policy === "wait" ? ` and for ${spec.offline.waitSeconds} s after` : ""}`,
          };
          this.#decide("outcome", "timed-out: offline", { gateway, wave: g.wave });
        } else if (g.outcome === "pending") {
          g.outcome = "waiting-offline";
          this.#decide("wait-offline", "offline: waiting for it", { gateway, wave: g.wave });
        }
        continue;
      }
      if (!this.#takeToken()) break;
      g.outcome = "sending";
      g.sentAt = iso;
      toSend.push(gateway);
      this.#decide("send", `bundle sent`, { gateway, wave: g.wave });
    }
    await this.#journal!.save();
    if (toSend.length === 0) return;
    await Promise.all(
      toSend.map(async (gateway) => {
        try {
          await this.#opts.connection.publishAndWait(
            gatewayTopics(this.#prefix, gateway).update,
            this.#opts.bundle,
            { qos: 1, retain: false },
          );
        } catch (error) {
          this.#log.warn({ gateway, err: describeError(error) }, "bundle publish failed; will look again");
        }
      }),
    );
    for (const gateway of toSend) {
      const g = r.gateways[gateway]!;
      if (g.outcome === "sending") g.outcome = "in-progress";
    }
    await this.#journal!.save();
  }

  #takeToken(): boolean {
    const rate = this.#opts.spec.rateLimit?.maximumPerMinute;
    if (rate === undefined) return true;
    const now = Date.now();
    const capacity = Math.max(1, rate / 60);
    this.#tokens = Math.min(capacity, this.#tokens + ((now - this.#refilledAt) * rate) / 60_000);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #decide(kind: string, text: string, extra: { gateway?: string; wave?: number } = {}): void {
    const decision: CampaignDecision = { at: new Date().toISOString(), kind, text, ...extra };
    this.#journal!.current.decisions.push(decision);
    this.#log.info({ ...extra, kind }, text);
    this.emit("decision", decision);
  }

  #publish(r: CampaignRecord): void {
    const snapshot = snapshotOf(r, new Date().toISOString());
    const key = JSON.stringify({ ...snapshot, updatedAt: "" });
    if (key === this.#lastPublished) return;
    this.#lastPublished = key;
    this.#opts.connection.setRetained(this.topics.state, JSON.stringify(snapshot));
    this.#opts.connection.setRetained(
      this.topics.decisions,
      JSON.stringify(r.decisions.slice(-MAX_PUBLISHED_DECISIONS)),
    );
    this.emit("change", snapshot);
  }
}

/** Who sends a control message: user@host. */
export function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}

function controlTime(message: Record<string, unknown>): string {
  return typeof message.at === "string" ? message.at : "";
}
