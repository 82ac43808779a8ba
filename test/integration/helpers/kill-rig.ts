/**
 * A daemon rig for kill tests on the whole demo product (four modules: USART and I2C, A/B and single
 * slot), and the judge that reads the modules' flash files: every module boots a complete image of
 * one release (byte-identical), all the same release, no trial pending. Used by
 * test/integration/daemon-kill-points.test.ts and the fault benchmark (bench/faults-kill.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  SETTLED_MODULE_STATES,
  type GatewayConfigInput,
  type ModuleState,
} from "../../../src/gateway/index.js";
import type { MqttConnection } from "../../../src/mqtt/connection/connection.js";
import { FleetWatcher } from "../../../src/mqtt/operator/operator.js";
import { parseSimFirmware } from "../../../src/sim/firmware/image-format.js";
import { DEMO_FLEET, fleetBundle, fleetImage } from "../../../src/sim/world/fleet.js";
import type { FleetModule } from "../../../src/sim/world/fleet.js";
import { BOOT_RECORD_SIZE, decideBoot, decodeBootRecord } from "../../../src/targets/index.js";
import { uniquePrefix } from "./brokers.js";
import { createDaemonRig } from "./daemon.js";
import type { DaemonProcess, DaemonRig } from "./daemon.js";

/** The rig's factory image size; release images are the same size. */
export const SIZE = 4096;
const FLASH_START = 0x08000000;
export const MODULES = DEMO_FLEET.map((m) => m.id);
const RUNNING = new Set(["verifying", "waiting-for-window", "running"]);

export function killRig(brokerUrl: string, configure?: (config: GatewayConfigInput) => void): DaemonRig {
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

/** A signed bundle putting every demo module on `version` (sensor crashing on boot when `failing`). */
export function releaseBundle(
  rig: Pick<DaemonRig, "gateway" | "key">,
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
    // Polled, not awaited on the watcher: "gateway ready" is a log line, and it can come after the
    // last MQTT message (the watcher's until() looks again only when a message arrives).
    const outcome = await this.#untilOrDied(
      () => this.gw()?.online === true && (this.gw()?.modules.size ?? 0) === MODULES.length && this.#ready(),
      60_000,
      () => {
        const gw = this.gw();
        return `timed out after 60000 ms waiting for the daemon to come up (online ${String(gw?.online)}, ${gw?.modules.size ?? 0} module statuses; log: ${this.tail()})`;
      },
    );
    return outcome === "died" ? "died" : "up";
  }

  /** Polls `done` every 20 ms until it holds ("done") or the daemon exits ("died"); throws `timeout()` after `timeoutMs`. */
  async #untilOrDied(
    done: () => boolean,
    timeoutMs: number,
    timeout: () => string,
  ): Promise<"done" | "died"> {
    let dead = false;
    void this.daemon!.exited.then(() => (dead = true));
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (dead) return "died";
      if (Date.now() > deadline) throw new Error(timeout());
      await sleep(20);
    }
    return "done";
  }

  #ready(): boolean {
    return this.rig.logs.slice(this.#logStart).some((l) => l.includes('"gateway ready"'));
  }

  /** The retained status says nothing runs; held for 600 ms (recovery runs after "gateway ready"). */
  #quiet(): boolean {
    const gw = this.gw();
    if (!gw || gw.online !== true || !this.#ready()) return false;
    if (
      MODULES.some((id) => !SETTLED_MODULE_STATES.has((gw.modules.get(id)?.state ?? "queued") as ModuleState))
    )
      return false;
    const status = gw.status;
    return !RUNNING.has(status?.bundle?.state ?? "") && !RUNNING.has(status?.lastRun?.state ?? "");
  }

  /**
   * After sending work: waits until the gateway shows it took it (a bundle or run of that release
   * or kind, or a refusal) or the daemon died, so that the quiet before the work is not taken for
   * the quiet after it.
   */
  async seenOrDied(release: string | null, timeoutMs = 30_000): Promise<"seen" | "died"> {
    const taken = (): boolean => {
      const status = this.gw()?.status;
      if (status?.lastRejected) return true;
      if (release === null) return status?.lastRun?.kind === "rollback";
      return status?.bundle?.release === release;
    };
    const outcome = await this.#untilOrDied(
      taken,
      timeoutMs,
      () => `work not taken after ${timeoutMs} ms (log: ${this.tail()})`,
    );
    return outcome === "died" ? "died" : "seen";
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
      if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms (log: ${this.tail()})`);
      await sleep(50);
    }
  }

  /** The last log messages, short: for failure reports. */
  tail(): string {
    return this.rig.logs
      .slice(-6)
      .map((line) => {
        try {
          const { msg, module } = JSON.parse(line) as { msg?: string; module?: string };
          return module ? `${module}: ${msg}` : (msg ?? line);
        } catch {
          return line.slice(0, 160);
        }
      })
      .join(" | ");
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
