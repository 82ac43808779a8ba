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
import { loadConfig, UpdateEngine, type GatewayConfigInput } from "../src/gateway/index.js";
import type { MqttConnection } from "../src/mqtt/connection/connection.js";
import { gatewayTopics } from "../src/mqtt/contract/topics.js";
import { publishBundle } from "../src/mqtt/operator/operator.js";
import { createSimModules, loadSimSpec } from "../src/sim/index.js";
import { fleetCommand } from "../src/sim/world/fleet.js";
import {
  judgeFlash,
  killRig,
  MODULES,
  releaseBundle,
  Watched,
} from "../test/integration/helpers/kill-rig.js";
import { runSet, type SetResult } from "./fault-sets.js";

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

/** Real SIGKILLs the daemon processes died of, over all cases so far. */
export const delivered = {
  kills: 0,
  /** Kills planned during a recovery that hit, and those whose recovery was over first. */
  laterHit: 0,
  laterMissed: 0,
};

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
        if ((await w.daemon!.exited) === "SIGKILL") delivered.kills++;
        if (i > 0) delivered.laterHit++;
        if (i === 0) return `died at ${killAt} before the work was sent`;
        continue;
      }
      if (i === 0) {
        await sendWork(ctx, w, c.work);
        await w.seenOrDied(c.work === "remote-rollback" ? null : "r-2.0.0");
      }
      const outcome = await w.settleOrDie(90_000);
      if (outcome === "died" && (await w.daemon!.exited) === "SIGKILL") delivered.kills++;
      if (i > 0)
        if (outcome === "died") delivered.laterHit++;
        else delivered.laterMissed++;
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
      [
        ...every(install.journal, Math.max(opts.step, 4) * 2, 2).map((k) => `journal:${k}`),
        `erase:motor:1`,
        ...["power", "radio", "sensor"].map((id) => `write:${id}:${halfway(install.writes.get(id) ?? 2)}`),
      ].map((first) => ({ work: "install" as const, kills: [first, "journal:1"], versions: ["2.0.0"] })),
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
  process.stdout.write(
    `real SIGKILLs delivered: ${delivered.kills} (second kills during a recovery: ${delivered.laterHit} hit, ${delivered.laterMissed} found the recovery already done)\n`,
  );
  return results;
}
