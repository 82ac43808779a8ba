/**
 * The controller's journal: one JSON file per campaign in `--state DIR`, replaced atomically (the
 * gateway's write-fsync-rename, reached through the gateway's entry file) after every decision and
 * before the controller acts on it. A controller killed at any instant and started again with the
 * same directory finds every gateway's outcome and every decision; a gateway journalled as
 * "sending" is looked up on the broker before anything is sent again.
 */
import { join } from "node:path";
import { ensureDirectory, readJsonFile, writeFileAtomic } from "../../../gateway/index.js";
import type {
  CampaignDecision,
  CampaignState,
  GatewayOutcome,
  GatewayProblem,
} from "../../contract/campaign.js";
import { CampaignError } from "./errors.js";

export interface WaveRecord {
  index: number;
  name: string | null;
  size: number;
  approval: boolean;
  minSuccessPercentage: number;
  soakSeconds: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** When the soak after this wave ends (ISO), once the wave finished. */
  soakUntil: string | null;
}

export interface GatewayRecord {
  wave: number;
  outcome: GatewayOutcome;
  /** When the bundle was (decided to be) sent. */
  sentAt: string | null;
  finishedAt: string | null;
  /** When the controller first found it offline in its wave. */
  offlineSince: string | null;
  error: { code: string; message: string } | null;
  modules: GatewayProblem["modules"];
  /** An outcome the gateway reported after the campaign had already counted it (timed out, cancelled). */
  late: string | null;
  /** A signed cancel was sent (emergency stop). */
  cancelSent: boolean;
}

export interface CampaignRecord {
  format: 1;
  id: string;
  bundleSha256: string;
  release: string;
  sequence: number;
  state: CampaignState;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  paused: boolean;
  abortRequested: boolean;
  /** Highest wave (1-based) an operator approved. */
  approvedUpTo: number;
  waves: WaveRecord[];
  gateways: Record<string, GatewayRecord>;
  ineligible: Array<{ gateway: string; reason: string }>;
  decisions: CampaignDecision[];
}

export class CampaignJournal {
  readonly path: string;
  #record: CampaignRecord | null;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, record: CampaignRecord | null) {
    this.path = path;
    this.#record = record;
  }

  /** Opens (creating the directory) the journal of campaign `id`; `record` is null for a new one. */
  static async open(dir: string, id: string): Promise<CampaignJournal> {
    await ensureDirectory(dir);
    const path = join(dir, `campaign-${id}.json`);
    let raw: unknown;
    try {
      raw = await readJsonFile(path);
    } catch (error) {
      throw new CampaignError("journal-corrupt", `${path}: ${(error as Error).message}`, { path });
    }
    if (
      raw !== undefined &&
      (typeof raw !== "object" || raw === null || (raw as CampaignRecord).format !== 1)
    )
      throw new CampaignError("journal-corrupt", `${path}: not a campaign journal`, { path });
    return new CampaignJournal(path, (raw as CampaignRecord | undefined) ?? null);
  }

  get record(): CampaignRecord | null {
    return this.#record;
  }

  /** The record, which must exist (after {@link create} or a load). */
  get current(): CampaignRecord {
    if (!this.#record) throw new Error("campaign journal: no record yet");
    return this.#record;
  }

  async create(record: CampaignRecord): Promise<void> {
    this.#record = record;
    await this.save();
  }

  /** Writes the record durably; concurrent calls are chained, each waits for a write that includes its change. */
  save(): Promise<void> {
    const snapshot = JSON.stringify(this.#record);
    const next = this.#writing.then(() => writeFileAtomic(this.path, snapshot));
    this.#writing = next.catch(() => {});
    return next;
  }
}
