/**
 * A `subflash daemon` process with simulated modules whose flash lives in files, for tests that kill
 * it and start it again: the modules keep their flash across daemon deaths, like real boards would.
 * Also reads a module's flash file directly to tell which firmware it would boot — the ground truth
 * the gateway's status is checked against.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decideBoot, decodeBootRecord } from "../../../src/targets/ab/boot-record.js";
import { DEMO_MODULES, fleetConfig } from "../../../src/sim/world/fleet.js";
import type { FleetModule } from "../../../src/sim/world/fleet.js";
import { createSigningKey } from "../../../src/signing/keys.js";
import type { SigningKey } from "../../../src/signing/keys.js";
import { parseSimFirmware } from "../../../src/sim/firmware/image-format.js";

const FLASH_START = 0x08000000;

export interface DaemonRig {
  readonly dir: string;
  readonly gateway: string;
  readonly prefix: string;
  readonly key: SigningKey;
  readonly configPath: string;
  readonly simPath: string;
  /** Log lines (JSON) of every run, in order. */
  readonly logs: string[];
  /** Starts the daemon; `env` adds variables (e.g. SUBFLASH_TEST_KILL_AT) to this start only. */
  start(env?: Record<string, string>): DaemonProcess;
  /** What the module would boot now, from its flash file: version and slot, and whether the boot record is confirmed. */
  flashTruth(module: string): { version: string | null; slot: string; confirmed: boolean };
  close(): void;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

export function createDaemonRig(opts: {
  brokerUrl: string;
  prefix: string;
  baud: number;
  timing: boolean;
  modules?: readonly FleetModule[];
  /** Edits the gateway configuration before it is written (e.g. shorter health checks). */
  configure?: (config: ReturnType<typeof fleetConfig>) => void;
  /** More simulation-file fields for a module (e.g. `bootloaderVersion`). */
  simModule?: (module: FleetModule) => Record<string, unknown>;
}): DaemonRig {
  const dir = mkdtempSync(join(tmpdir(), "subflash-daemon-"));
  const gateway = `gw-${randomUUID().slice(0, 6)}`;
  const key = createSigningKey({ label: "crash test" });
  const modules = opts.modules ?? DEMO_MODULES;
  const config = fleetConfig({
    gateway,
    dir,
    key,
    baud: opts.baud,
    modules,
    mqtt: { url: opts.brokerUrl, prefix: opts.prefix },
  });
  opts.configure?.(config);
  const configPath = join(dir, "gateway.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const simPath = join(dir, "sims.yaml");
  const sims = {
    timing: opts.timing,
    modules: Object.fromEntries(
      modules.map((m) => [
        m.id,
        { flashFile: `${m.id}.flash`, factory: { version: "1.0.0", size: 4096 }, ...opts.simModule?.(m) },
      ]),
    ),
  };
  writeFileSync(simPath, JSON.stringify(sims, null, 2));
  const logs: string[] = [];
  return {
    dir,
    gateway,
    prefix: opts.prefix,
    key,
    configPath,
    simPath,
    logs,
    start: (env) =>
      startDaemon(
        ["daemon", "--config", configPath, "--simulate", simPath, "--log-level", "info"],
        logs,
        env,
      ),
    flashTruth: (id) => {
      const def = modules.find((m) => m.id === id)!;
      const flash = new Uint8Array(readFileSync(join(dir, `${id}.flash`)));
      const at = (address: number, length: number): Uint8Array =>
        flash.subarray(address - FLASH_START, address - FLASH_START + length);
      if (def.layout.kind === "single") {
        return {
          version: parseSimFirmware(at(def.layout.slot.address, 64))?.version ?? null,
          slot: "single",
          confirmed: true,
        };
      }
      const [c0, c1] = def.layout.bootRecord.copies;
      const decision = decideBoot([decodeBootRecord(at(c0, 64)), decodeBootRecord(at(c1, 64))]);
      const address = decision.boots === "a" ? def.layout.slotA.address : def.layout.slotB.address;
      return {
        version: parseSimFirmware(at(address, 64))?.version ?? null,
        slot: decision.boots,
        confirmed: decision.record === null || !decision.record.trial,
      };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function startDaemon(args: string[], logs: string[], env?: Record<string, string>): DaemonProcess {
  const child = spawn(process.execPath, ["bin/subflash.mjs", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    logs.push(...lines);
  });
  child.stderr.on("data", (chunk: Buffer) => logs.push(`stderr: ${chunk.toString()}`));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  );
  return {
    child,
    exited,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
