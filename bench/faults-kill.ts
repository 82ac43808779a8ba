/**
 * Fault benchmark, process sets (issue 10): the daemon as a real child process (`subflash daemon
 * --simulate`), killed with a real SIGKILL at deterministic points of an update of the demo product's
 * four modules (power: F103 USART single slot; motor: G071 USART A/B with Get Checksum; radio: F407
 * USART A/B; sensor: G071 on I2C, A/B). The daemon kills itself (SUBFLASH_TEST_KILL_AT,
 * src/sim/world/kill-point.ts) right after its k-th journal write, after the n-th Write Memory or
 * Erase on a module, or between receipt and journal; the points are counted first on an in-process
 * engine with the same configuration. The simulated modules' flash lives in files written through on
 * every command, so the modules outlive the daemon as real boards would.
 *
 * After each kill the daemon is started again (and, for "twice", killed again during its recovery),
 * left to settle, stopped, and judged from the modules' flash files, independently of the gateway's
 * records: every module boots a complete image of one release (byte-identical), all four the same
 * release (all-or-nothing), no trial boot pending; and the retained status agrees with the flash.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, UpdateEngine, type GatewayConfigInput } from "../src/gateway/index.js";
import type { MqttConnection } from "../src/mqtt/connection/connection.js";
import { gatewayTopics } from "../src/mqtt/contract/topics.js";
import { FleetWatcher, publishBundle } from "../src/mqtt/operator/operator.js";
import { createSimModules, loadSimSpec } from "../src/sim/index.js";
import { parseSimFirmware } from "../src/sim/firmware/image-format.js";
import { DEMO_FLEET, fleetBundle, fleetCommand, fleetImage } from "../src/sim/world/fleet.js";
import type { FleetModule } from "../src/sim/world/fleet.js";
import { BOOT_RECORD_SIZE, decideBoot, decodeBootRecord } from "../src/targets/index.js";
import { uniquePrefix } from "../test/integration/helpers/brokers.js";
import { createDaemonRig } from "../test/integration/helpers/daemon.js";
import type { DaemonProcess, DaemonRig } from "../test/integration/helpers/daemon.js";
import { runSet, type SetResult } from "./fault-sets.js";

/** The rig's factory image size; release images are the same size. */
const SIZE = 4096;
const FLASH_START = 0x08000000;
const MODULES = DEMO_FLEET.map((m) => m.id);
const ACTIVE = new Set([
  "queued",
  "downloading",
  "entering-bootloader",
  "backing-up",
  "erasing",
  "writing",
  "verifying",
  "activating",
  "health-check",
  "rolling-back",
]);
const RUNNING = new Set(["verifying", "waiting-for-window", "running"]);

export type Work = "install" | "failing" | "remote-rollback";

export interface KillCase {
  work: Work;
  /** SUBFLASH_TEST_KILL_AT of each killed start, in order; the work is sent during the first. */
  kills: string[];
  /** Releases the modules may end on. */
  versions: readonly string[];
}

export interface KillContext {
  brokerUrl: string;
  operator: MqttConnection;
  /** Extra configuration (e.g. a state directory elsewhere). */
  configure?: (config: GatewayConfigInput) => void;
}

export function killRig(brokerUrl: string, configure?: KillContext["configure"]): DaemonRig {
  return createDaemonRig({
    brokerUrl,
    prefix: uniquePrefix("kill"),
    baud: 230_400,
    timing: false,
    modules: DEMO_FLEET,
    configure: (c) => {
      c.reconcile = { atStart: true, repair: "auto", method: "crc" };
      for (const m of c.modules)
        m.health = { ...(m.health as object), bootDelayMs: 0, timeoutMs: 800, attempts: 1 } as never;
      configure?.(c);
    },
    simModule: (m) => (m.id === "motor" ? { bootloaderVersion: 0x33 } : {}),
  });
}

export function releaseBundle(
  rig: DaemonRig,
  sequence: number,
  version: string,
  failing = false,
): Uint8Array {
  return fleetBundle(
    {
      sequence,
      release: `r-${version}`,
      gateways: [rig.gateway],
      modules: Object.fromEntries(
        MODULES.map((id) => [
          id,
          { version, ...(failing && id === "sensor" ? { behaviour: "crash-on-boot" as const } : {}) },
        ]),
      ),
      imageSize: SIZE,
    },
    rig.key,
    DEMO_FLEET,
  );
}

/** How many journal writes and device commands a work makes, counted on an in-process engine. */
export interface WorkCounts {
  journal: number;
  writes: Map<string, number>;
  erases: Map<string, number>;
}

export async function countWork(brokerUrl: string, work: Work): Promise<WorkCounts> {
  const rig = killRig(brokerUrl);
  try {
    const config = loadConfig(rig.configPath);
    const sims = createSimModules(config, loadSimSpec(rig.simPath, config));
    const counts: WorkCounts = { journal: 0, writes: new Map(), erases: new Map() };
    const fresh = async (count: boolean): Promise<UpdateEngine> => {
      const engine = new UpdateEngine({
        config,
        targets: sims.targets,
        ...(count ? { journalHook: ({ count: n }) => void (counts.journal = n) } : {}),
      });
      await engine.start();
      return engine;
    };
    try {
      if (work === "remote-rollback") {
        const first = await fresh(false);
        await first.submitBundle(releaseBundle(rig, 1, "2.0.0"));
        await first.idle();
        await first.stop();
      }
      for (const [id, sim] of sims.sims)
        sim.on("command", ({ opcode }) => {
          const base = opcode === 0x32 ? 0x31 : opcode === 0x45 ? 0x44 : opcode;
          if (base === 0x31) counts.writes.set(id, (counts.writes.get(id) ?? 0) + 1);
          if (base === 0x43 || base === 0x44) counts.erases.set(id, (counts.erases.get(id) ?? 0) + 1);
        });
      const engine = await fresh(true);
      if (work === "remote-rollback")
        await engine.submitCommand(
          fleetCommand(rig.key, { kind: "rollback", gateway: rig.gateway, sequence: 1 }),
        );
      else await engine.submitBundle(releaseBundle(rig, 1, "2.0.0", work === "failing"));
      await engine.idle();
      await engine.stop();
      return counts;
    } finally {
      await sims.close();
    }
  } finally {
    rig.close();
  }
}

/** What a module boots, read from its flash file: a complete release image's version, or why not. */
export function bootsFromFlashFile(
  rig: DaemonRig,
  def: FleetModule,
): { version: string | null; problem: string | null } {
  const flash = new Uint8Array(readFileSync(join(rig.dir, `${def.id}.flash`)));
  const at = (address: number, length: number): Uint8Array =>
    flash.subarray(address - FLASH_START, address - FLASH_START + length);
  let address: number;
  if (def.layout.kind === "single") address = def.layout.slot.address;
  else {
    const [c0, c1] = def.layout.bootRecord.copies;
    const decision = decideBoot([
      decodeBootRecord(at(c0, BOOT_RECORD_SIZE)),
      decodeBootRecord(at(c1, BOOT_RECORD_SIZE)),
    ]);
    if (decision.pendingTrial) return { version: null, problem: "a trial is pending" };
    address = decision.boots === "a" ? def.layout.slotA.address : def.layout.slotB.address;
  }
  const header = parseSimFirmware(at(address, 64));
  if (!header) return { version: null, problem: "no image" };
  const expected = fleetImage(header.version, header.behaviour, SIZE);
  const actual = at(address, SIZE);
  if (!expected.every((byte, i) => byte === actual[i]))
    return { version: header.version, problem: "incomplete image" };
  return { version: header.version, problem: null };
}

/** Null when every module boots the same complete release out of `versions`. */
export function judgeFlash(rig: DaemonRig, versions: readonly string[]): string | null {
  const seen = DEMO_FLEET.map((def) => ({ id: def.id, ...bootsFromFlashFile(rig, def) }));
  const bad = seen.find((s) => s.problem !== null);
  if (bad) return `${bad.id}: ${bad.problem}`;
  const set = new Set(seen.map((s) => s.version));
  if (set.size !== 1) return `mixed versions: ${seen.map((s) => `${s.id}=${s.version}`).join(" ")}`;
  const [version] = [...set];
  if (!versions.includes(version!)) return `on ${version}`;
  return null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One daemon life on a rig, watched over MQTT. */
export class Watched {
  readonly watcher: FleetWatcher;
  daemon: DaemonProcess | null = null;
  #logStart = 0;

  constructor(
    readonly rig: DaemonRig,
    operator: MqttConnection,
  ) {
    this.watcher = new FleetWatcher(operator, { prefix: rig.prefix, gateway: rig.gateway });
  }

  gw(): ReturnType<FleetWatcher["view"]["gateway"]> {
    return this.watcher.view.gateway(this.rig.gateway);
  }

  /** Starts the daemon (after the previous one's last will is seen) and waits until it is up or dead. */
  async start(killAt?: string): Promise<"up" | "died"> {
    if (this.daemon) await this.watcher.until(() => this.gw()?.online !== true, 15_000, "the last will");
    this.#logStart = this.rig.logs.length;
    const daemon = this.rig.start(killAt ? { SUBFLASH_TEST_KILL_AT: killAt } : undefined);
    this.daemon = daemon;
    const died = daemon.exited.then(() => "died" as const);
    const up = this.watcher
      .until(
        () =>
          this.gw()?.online === true && (this.gw()?.modules.size ?? 0) === MODULES.length && this.#ready(),
        30_000,
        "the daemon to come up",
      )
      .then(() => "up" as const);
    return Promise.race([up, died]);
  }

  #ready(): boolean {
    return this.rig.logs.slice(this.#logStart).some((l) => l.includes('"gateway ready"'));
  }

  /** The retained status says nothing runs; held for 600 ms (recovery runs after "gateway ready"). */
  #quiet(): boolean {
    const gw = this.gw();
    if (!gw || gw.online !== true || !this.#ready()) return false;
    if (MODULES.some((id) => ACTIVE.has(gw.modules.get(id)?.state ?? "queued"))) return false;
    const status = gw.status;
    return !RUNNING.has(status?.bundle?.state ?? "") && !RUNNING.has(status?.lastRun?.state ?? "");
  }

  /** Waits until the daemon died (its kill point) or settled; which one. */
  async settleOrDie(timeoutMs: number): Promise<"settled" | "died"> {
    const daemon = this.daemon!;
    let dead = false;
    void daemon.exited.then(() => (dead = true));
    const deadline = Date.now() + timeoutMs;
    let quietSince: number | null = null;
    for (;;) {
      if (dead) return "died";
      if (this.#quiet()) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= 600) return "settled";
      } else quietSince = null;
      if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms\n${this.tail()}`);
      await sleep(50);
    }
  }

  tail(): string {
    return this.rig.logs.slice(-6).join("\n").slice(0, 1500);
  }

  /** Null when the retained status agrees with the flash (versions) and is final. */
  statusProblem(): string | null {
    const gw = this.gw();
    for (const def of DEMO_FLEET) {
      const status = gw?.modules.get(def.id);
      const flash = bootsFromFlashFile(this.rig, def);
      if (!status) return `${def.id}: no retained status`;
      if (status.version !== flash.version)
        return `${def.id}: status says ${status.version}, flash ${flash.version}`;
      if (!["idle", "committed", "rolled-back", "failed"].includes(status.state))
        return `${def.id}: status ${status.state}`;
    }
    return null;
  }

  async stop(): Promise<void> {
    await this.daemon?.kill("SIGTERM");
  }
}

async function sendWork(ctx: KillContext, w: Watched, work: Work): Promise<void> {
  const rig = w.rig;
  if (work === "remote-rollback") {
    const command = fleetCommand(rig.key, { kind: "rollback", gateway: rig.gateway, sequence: 1 });
    await ctx.operator.publishAndWait(gatewayTopics(rig.prefix, rig.gateway).command, command, { qos: 1 });
  } else
    await publishBundle(
      ctx.operator,
      { gateway: rig.gateway },
      releaseBundle(rig, 1, "2.0.0", work === "failing"),
      rig.prefix,
    );
}

/** Runs one case; null when it survived. */
export async function runKillCase(ctx: KillContext, c: KillCase): Promise<string | null> {
  const rig = killRig(ctx.brokerUrl, ctx.configure);
  const w = new Watched(rig, ctx.operator);
  await w.watcher.start();
  try {
    if (c.work === "remote-rollback") {
      // Committed on 2.0.0 first, by a daemon that is not killed.
      await w.start();
      await publishBundle(ctx.operator, { gateway: rig.gateway }, releaseBundle(rig, 1, "2.0.0"), rig.prefix);
      await w.watcher.until(() => w.gw()?.status?.bundle?.state === "committed", 60_000, "2.0.0 committed");
      if ((await w.settleOrDie(60_000)) === "died") return "died while preparing";
      await w.stop();
    }
    for (const [i, killAt] of c.kills.entries()) {
      if ((await w.start(killAt)) === "died") {
        if (i === 0) return `died at ${killAt} before the work was sent`;
        continue;
      }
      if (i === 0) await sendWork(ctx, w, c.work);
      const outcome = await w.settleOrDie(90_000);
      // A first kill point the work never reaches is a bench error; a later one (recovery shorter
      // than k writes) just means that start ended without a second kill.
      if (outcome === "settled" && i === 0) return `kill point ${killAt} not reached`;
      if (outcome === "settled") await w.stop();
    }
    await w.start();
    await w.settleOrDie(90_000);
    const status = w.statusProblem();
    await w.stop();
    w.daemon = null;
    return judgeFlash(rig, c.versions) ?? status;
  } catch (error) {
    return `${(error as Error).message.split("\n")[0]}`;
  } finally {
    await w.daemon?.kill("SIGKILL");
    w.watcher.stop();
    rig.close();
  }
}

const halfway = (n: number): number => Math.max(1, Math.ceil(n / 2));

/** The process sets: ≥ 60 real SIGKILLs across update, twice, rollback and remote rollback. */
export async function killSets(ctx: KillContext, opts: { step: number }): Promise<SetResult[]> {
  const install = await countWork(ctx.brokerUrl, "install");
  const failing = await countWork(ctx.brokerUrl, "failing");
  const rollback = await countWork(ctx.brokerUrl, "remote-rollback");
  process.stdout.write(
    `journal writes (daemon process): update ${install.journal}, failing update ${failing.journal}, remote rollback ${rollback.journal}; ` +
      `Write Memory per module: ${MODULES.map((id) => `${id} ${install.writes.get(id) ?? 0}`).join(", ")}\n`,
  );
  const every = (n: number, step: number, from = 1): number[] =>
    Array.from({ length: n }, (_, i) => i + 1).filter((k) => k >= from && (k - from) % step === 0);
  const run = (c: KillCase): Promise<string | null> => runKillCase(ctx, c);
  const label = (c: KillCase): string => `${c.work} killed at ${c.kills.join(", then ")}`;
  const results: SetResult[] = [];
  results.push(
    await runSet(
      "SIGKILL: between receipt and journal",
      [
        { work: "install", kills: ["bundle-verified"], versions: ["2.0.0"] },
        { work: "failing", kills: ["bundle-verified"], versions: ["1.0.0"] },
      ] satisfies KillCase[],
      run,
      label,
    ),
  );
  results.push(
    await runSet(
      "SIGKILL: at journal writes of a 4-module update",
      every(install.journal, opts.step).map((k) => ({
        work: "install" as const,
        kills: [`journal:${k}`],
        versions: ["2.0.0"],
      })),
      run,
      label,
    ),
  );
  results.push(
    await runSet(
      "SIGKILL: mid-erase and mid-write, each module",
      MODULES.flatMap((id) => {
        const writes = install.writes.get(id) ?? 0;
        const points = [`erase:${id}:1`, `write:${id}:1`, `write:${id}:${halfway(writes)}`];
        if (writes > 2) points.push(`write:${id}:${writes - 1}`);
        return points.map((p) => ({ work: "install" as const, kills: [p], versions: ["2.0.0"] }));
      }),
      run,
      label,
    ),
  );
  results.push(
    await runSet(
      "SIGKILL: twice (again during the recovery)",
      every(install.journal, Math.max(opts.step, 4) * 2, 2).flatMap((k) => [
        { work: "install" as const, kills: [`journal:${k}`, "journal:2"], versions: ["2.0.0"] },
        {
          work: "install" as const,
          kills: [`journal:${k}`, `write:power:${halfway(install.writes.get("power") ?? 2)}`],
          versions: ["2.0.0"],
        },
      ]),
      run,
      label,
    ),
  );
  results.push(
    await runSet(
      "SIGKILL: during a failing update's rollback",
      every(failing.journal, Math.max(2, opts.step), Math.ceil(failing.journal / 3)).map((k) => ({
        work: "failing" as const,
        kills: [`journal:${k}`],
        versions: ["1.0.0"],
      })),
      run,
      label,
    ),
  );
  results.push(
    await runSet(
      "SIGKILL: during a remote rollback",
      [
        ...every(rollback.journal, opts.step).map((k) => `journal:${k}`),
        `write:radio:${halfway(rollback.writes.get("radio") ?? 2)}`,
        `write:power:${halfway(rollback.writes.get("power") ?? 2)}`,
      ].map((p) => ({ work: "remote-rollback" as const, kills: [p], versions: ["1.0.0"] })),
      run,
      label,
    ),
  );
  return results;
}
