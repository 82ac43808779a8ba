/**
 * Fault benchmark (issue 10): the update engine "killed" at many points of an update of the demo
 * product's four modules (power: F103 USART single slot; motor: G071 USART A/B with Get Checksum;
 * radio: F407 USART A/B; sensor: G071 on I2C, A/B), restarted on the same state directory and
 * simulated modules, and the outcome judged from the modules' FLASH, independently of the gateway's
 * records: every module must boot a complete image (byte-identical to a release image, no trial
 * pending), all four on the same release (all-or-nothing), and the gateway's status must say so.
 *
 * The `halt:` sets kill in-process (HaltGate, the engine frozen mid-flight as SIGKILL would leave it:
 * no further write or device action, ports closed), cheap enough for every journal write. The
 * `SIGKILL:` sets (faults-kill.ts) run the daemon as a real process and SIGKILL it; then a tiny
 * state filesystem (faults-tmpfs.ts, root only) and the flood and huge-payload cases
 * (faults-intake.ts). One broker for all: Mosquitto when on PATH (or SUBFLASH_TEST_MQTT_URL), else
 * the embedded one. Timing model off. Prints `survived N/M` per set.
 *
 *   npm run bench:faults [-- --step 1 --sets halt,kill,tmpfs,intake]
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, UpdateEngine, type GatewayConfig } from "../src/gateway/index.js";
import { HaltGate } from "../src/gateway/run/halt.js";
import { createSigningKey, type SigningKey } from "../src/signing/index.js";
import { parseSimFirmware } from "../src/sim/firmware/image-format.js";
import { DEMO_FLEET, fleetCommand, fleetConfig, fleetImage } from "../src/sim/world/fleet.js";
import { createSimModules, type SimModules } from "../src/sim/world/sim-modules.js";
import { BOOT_RECORD_SIZE, decideBoot, decodeBootRecord } from "../src/targets/index.js";
import { parseArgs } from "node:util";
import { connectOperator } from "../src/mqtt/operator/operator.js";
import { releaseBundle } from "../test/integration/helpers/kill-rig.js";
import { mosquittoUnavailable, startAedes, startMosquitto } from "../test/integration/helpers/brokers.js";
import { printTotal, runSet, type SetResult } from "./fault-sets.js";
import { intakeSets } from "./faults-intake.js";
import { killSets } from "./faults-kill.js";
import { tinyFilesystemSet } from "./faults-tmpfs.js";

const { values } = parseArgs({
  options: {
    // Every `step`-th journal write is a kill point of the process sets (1: all of them).
    step: { type: "string", default: "2" },
    // Which groups of sets run: halt (in-process), kill (SIGKILL), tmpfs, intake (flood, memory).
    sets: { type: "string", default: "halt,kill,tmpfs,intake" },
  },
});
const want = (group: string): boolean => values.sets.split(",").includes(group);

const SIZE = 4096;
const GATEWAY = "gw-faults";
const MODULES = DEMO_FLEET.map((m) => m.id);

interface Bench {
  dir: string;
  key: SigningKey;
  config: GatewayConfig;
  sims: SimModules;
  engines: UpdateEngine[];
  commandSequence: number;
}

function setUp(): Bench {
  const dir = mkdtempSync(join(tmpdir(), "subflash-faults-"));
  const key = createSigningKey({ label: "faults" });
  const raw = fleetConfig({ gateway: GATEWAY, dir, key, modules: DEMO_FLEET });
  raw.reconcile = { atStart: true, repair: "auto", method: "crc" };
  for (const m of raw.modules) {
    m.health = { ...(m.health as object), bootDelayMs: 0, timeoutMs: 150, attempts: 1 } as never;
  }
  const config = parseConfig(raw, { file: "faults", baseDir: dir });
  const sims = createSimModules(config, (m) => ({
    timing: false,
    factory: { version: "1.0.0", size: SIZE },
    ...(m.id === "motor" ? { bootloaderVersion: 0x33 } : {}),
  }));
  return { dir, key, config, sims, engines: [], commandSequence: 0 };
}

async function tearDown(b: Bench): Promise<void> {
  for (const e of b.engines) await e.stop().catch(() => {});
  await b.sims.close();
  rmSync(b.dir, { recursive: true, force: true });
}

/** An engine that halts after journal write `killAt` (never when undefined); resolves `killed` then. */
async function engine(
  b: Bench,
  killAt?: number,
): Promise<{ engine: UpdateEngine; killed: Promise<void>; writes: () => number }> {
  let mark!: () => void;
  const killed = new Promise<void>((resolve) => (mark = resolve));
  let writes = 0;
  const gate = new HaltGate();
  const e = new UpdateEngine({
    config: b.config,
    targets: b.sims.targets,
    haltGate: gate,
    journalHook: ({ count }) => {
      writes = count;
      if (count !== killAt) return undefined;
      mark();
      return "halt";
    },
  });
  b.engines.push(e);
  await e.start();
  return { engine: e, killed, writes: () => writes };
}

function bundle(b: Bench, sequence: number, version: string, failing = false): Uint8Array {
  return releaseBundle({ gateway: GATEWAY, key: b.key }, sequence, version, failing);
}

/** What a module boots, read from its flash: a complete release image's version, or why not. */
function bootsFromFlash(b: Bench, id: string): { version: string | null; problem: string | null } {
  const def = DEMO_FLEET.find((m) => m.id === id)!;
  const memory = b.sims.sims.get(id)!.memory;
  let address: number;
  if (def.layout.kind === "single") address = def.layout.slot.address;
  else {
    const [c0, c1] = def.layout.bootRecord.copies;
    const decision = decideBoot([
      decodeBootRecord(memory.read(c0, BOOT_RECORD_SIZE)),
      decodeBootRecord(memory.read(c1, BOOT_RECORD_SIZE)),
    ]);
    if (decision.pendingTrial) return { version: null, problem: "a trial is pending" };
    address = decision.boots === "a" ? def.layout.slotA.address : def.layout.slotB.address;
  }
  const header = parseSimFirmware(memory.read(address, 64));
  if (!header) return { version: null, problem: "no image" };
  const expected = fleetImage(header.version, header.behaviour, SIZE);
  const actual = memory.read(address, SIZE);
  if (!expected.every((byte, i) => byte === actual[i]))
    return { version: header.version, problem: "incomplete image" };
  return { version: header.version, problem: null };
}

/** Survived: all modules boot the same complete release (allowed: `versions`), and the status agrees. */
function judge(b: Bench, e: UpdateEngine, versions: readonly string[]): string | null {
  const seen = MODULES.map((id) => ({ id, ...bootsFromFlash(b, id) }));
  const bad = seen.find((s) => s.problem !== null);
  if (bad) return `${bad.id}: ${bad.problem}`;
  const set = new Set(seen.map((s) => s.version));
  if (set.size !== 1) return `mixed versions: ${seen.map((s) => `${s.id}=${s.version}`).join(" ")}`;
  const [version] = [...set];
  if (!versions.includes(version!)) return `on ${version}`;
  for (const status of e.moduleStatuses()) {
    if (status.version !== null && status.version !== version)
      return `${status.module}: status says ${status.version}, flash ${version}`;
    if (!["idle", "committed", "rolled-back", "failed"].includes(status.state))
      return `${status.module}: status ${status.state}`;
  }
  return null;
}

type Damage = "none" | "delete-journal" | "truncate-state" | "corrupt-journal" | "delete-state";

function damage(b: Bench, what: Damage): void {
  const state = join(b.config.stateDir, "state.json");
  const journal = join(b.config.stateDir, "journal.json");
  if (what === "delete-journal") rmSync(journal, { force: true });
  if (what === "delete-state") rmSync(state, { force: true });
  if (what === "truncate-state") truncateSync(state, 0);
  if (what === "corrupt-journal") writeFileSync(journal, '{"format":1,"id":');
}

interface Case {
  prepare?: (b: Bench) => Promise<void>;
  /** Starts the faulted work on a fresh engine. */
  work: (b: Bench, e: UpdateEngine) => Promise<unknown>;
  killAt: number;
  /** A second kill, on the first restart's journal writes. */
  secondKillAt?: number;
  damage?: Damage;
  versions: readonly string[];
}

async function runCase(c: Case): Promise<string | null> {
  const b = setUp();
  try {
    if (c.prepare) await c.prepare(b);
    const first = await engine(b, c.killAt);
    await Promise.race([c.work(b, first.engine).then(() => first.engine.idle()), first.killed]);
    if (c.secondKillAt !== undefined) {
      const second = await engine(b, c.secondKillAt);
      await Promise.race([second.engine.idle(), second.killed]);
    }
    damage(b, c.damage ?? "none");
    const before = MODULES.map((id) => b.sims.sims.get(id)!.memory.flash.data.slice());
    let last: UpdateEngine;
    try {
      last = (await engine(b)).engine;
    } catch (error) {
      // A start refused with a stable code, naming the damaged file, and touching no module is the
      // honest answer to damaged state (the operator decides): it counts as survived, apart.
      const code = (error as { code?: unknown }).code;
      const message = (error as Error).message;
      const untouched = MODULES.every((id, i) =>
        b.sims.sims.get(id)!.memory.flash.data.every((byte, k) => byte === before[i]![k]),
      );
      if (typeof code !== "string" || code === "internal" || !message.includes(b.config.stateDir))
        return `start refused without naming the file (${message.slice(0, 60)})`;
      if (!untouched) return `start refused (${code}) after touching a module`;
      namedRefusals++;
      return null;
    }
    await last.idle();
    return judge(b, last, c.versions);
  } finally {
    await tearDown(b);
  }
}

/** Cases survived by a named refusal to start (modules untouched), counted apart in each set's line. */
let namedRefusals = 0;

async function countWrites(work: Case["work"], prepare?: Case["prepare"]): Promise<number> {
  const b = setUp();
  try {
    if (prepare) await prepare(b);
    const e = await engine(b);
    await work(b, e.engine);
    await e.engine.idle();
    return e.writes();
  } finally {
    await tearDown(b);
  }
}

const installV2: Case["work"] = (b, e) => e.submitBundle(bundle(b, 1, "2.0.0"));
const failingV2: Case["work"] = (b, e) => e.submitBundle(bundle(b, 1, "2.0.0", true));
const committedV2 = async (b: Bench): Promise<void> => {
  const e = await engine(b);
  await e.engine.submitBundle(bundle(b, 1, "2.0.0"));
  await e.engine.idle();
  await e.engine.stop();
};
const remoteRollback: Case["work"] = (b, e) =>
  e.submitCommand(fleetCommand(b.key, { kind: "rollback", gateway: GATEWAY, sequence: ++b.commandSequence }));

const caseLabel = (c: Case, i: number): string =>
  `#${i + 1} (kill at ${c.killAt}${c.damage ? `, ${c.damage}` : ""})`;
async function runHaltSet(name: string, cases: Case[]): Promise<SetResult> {
  const refusedBefore = namedRefusals;
  return runSet(`halt: ${name}`, cases, runCase, caseLabel, () => {
    const refused = namedRefusals - refusedBefore;
    return refused > 0 ? ` (${refused} by a named refusal to start, modules untouched)` : "";
  });
}

const started = Date.now();
const results: SetResult[] = [];
if (want("halt")) {
  const installWrites = await countWrites(installV2);
  const failingWrites = await countWrites(failingV2);
  const rollbackWrites = await countWrites(remoteRollback, committedV2);
  process.stdout.write(
    `journal writes: update ${installWrites}, failing update ${failingWrites}, remote rollback ${rollbackWrites}\n`,
  );
  const range = (n: number, step = 1): number[] =>
    Array.from({ length: Math.ceil(n / step) }, (_, i) => 1 + i * step).filter((k) => k <= n);

  results.push(
    await runHaltSet(
      "kill at every write of a 4-module update",
      range(installWrites).map((killAt) => ({ work: installV2, killAt, versions: ["2.0.0"] })),
    ),
  );
  results.push(
    await runHaltSet(
      "killed twice in a row",
      range(installWrites, 4).map((killAt) => ({
        work: installV2,
        killAt,
        secondKillAt: 2,
        versions: ["2.0.0"],
      })),
    ),
  );
  results.push(
    await runHaltSet(
      "kill during a failing update's rollback",
      range(failingWrites, 2).map((killAt) => ({ work: failingV2, killAt, versions: ["1.0.0"] })),
    ),
  );
  results.push(
    await runHaltSet(
      "kill during a remote rollback",
      range(rollbackWrites).map((killAt) => ({
        prepare: committedV2,
        work: remoteRollback,
        killAt,
        versions: ["1.0.0"],
      })),
    ),
  );
  const damages: Damage[] = ["delete-journal", "truncate-state", "corrupt-journal", "delete-state"];
  results.push(
    await runHaltSet(
      "killed, then state files deleted/truncated/corrupted",
      damages.flatMap((d) =>
        range(installWrites, 6).map((killAt) => ({
          work: installV2,
          killAt,
          damage: d,
          versions: ["1.0.0", "2.0.0"],
        })),
      ),
    ),
  );
}

// Process sets: a real daemon, really killed (faults-kill.ts), a tiny state filesystem, the intake.
const broker = mosquittoUnavailable() === null ? await startMosquitto() : await startAedes();
const operator = await connectOperator({ broker: broker.url });
try {
  const ctx = { brokerUrl: broker.url, operator };
  if (want("kill")) results.push(...(await killSets(ctx, { step: Number(values.step) })));
  if (want("tmpfs")) results.push(await tinyFilesystemSet(ctx, [8, 16, 24, 32, 40, 48, 64, 96]));
} finally {
  await operator.stop();
}
// The intake scripts start daemons of their own on this broker when it is a Mosquitto.
if (want("intake")) results.push(...(await intakeSets(broker.kind === "mosquitto" ? broker.url : null)));
await broker.close();
printTotal(results, (Date.now() - started) / 1000, `broker: ${broker.kind}`);
