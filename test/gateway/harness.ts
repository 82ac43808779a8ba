/**
 * A gateway on one machine for engine tests: three simulated modules of different families with the
 * simulated module firmware (A/B selector + application), a trust store, a config, and builders for
 * signed bundles and commands. Engines made by `engine()` share the state directory and the modules,
 * so a test can abandon one (a "crash") and start another.
 */
import { simReleaseManifest } from "../../src/sim/index.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type GatewayConfig, type GatewayConfigInput } from "../../src/gateway/config/config.js";
import { UpdateEngine, type EngineOptions } from "../../src/gateway/engine.js";
import type { GatewayEvent, ModuleStatus } from "../../src/gateway/status/types.js";
import { createSimTargetFactory } from "../../src/sim/world/sim-targets.js";
import { encodeBootRecord } from "../../src/targets/ab/boot-record.js";
import { createBundle, signCommand, type Manifest, type SignedCommand } from "../../src/manifest/index.js";
import { createSigningKey, stm32Crc, trustStoreDocument, type SigningKey } from "../../src/signing/index.js";
import { createSimulatedModule, type SimulatedModule } from "../../src/sim/module/index.js";
import {
  buildSimFirmware,
  parseSimFirmware,
  type SimBehaviour,
} from "../../src/sim/firmware/image-format.js";
import {
  createModuleFirmware,
  type ModuleFirmware,
  type SimFirmwareLayout,
} from "../../src/sim/firmware/module-firmware.js";

export const GATEWAY = "gw-test";

/** The three modules: F103 single, G071 A/B (factory boot record), F407 A/B (no boot record yet). */
export const MODULES = {
  power: {
    type: "power-board",
    device: "f103",
    pid: 0x410,
    layout: { kind: "single", slot: { address: 0x08000000, size: 0x10000 } },
    entry: { method: "gpio", chip: "gpiochip0", boot0: 17, nrst: 27, resetPulseMs: 1, settleMs: 1 },
  },
  motor: {
    type: "motor-board",
    device: "g071",
    pid: 0x460,
    layout: {
      kind: "ab",
      slotA: { address: 0x08004000, size: 0xe000 },
      slotB: { address: 0x08012000, size: 0xe000 },
      bootRecord: { copies: [0x08002000, 0x08002800] },
    },
    entry: { method: "app-command", send: "!boot\\n", settleMs: 1 },
  },
  radio: {
    type: "radio-board",
    device: "f407",
    pid: 0x413,
    layout: {
      kind: "ab",
      slotA: { address: 0x08020000, size: 0x20000 },
      slotB: { address: 0x08040000, size: 0x20000 },
      bootRecord: { copies: [0x08004000, 0x08008000] },
    },
    entry: { method: "serial-lines", pulseMs: 1, settleMs: 1 },
  },
} as const;

export type ModuleId = keyof typeof MODULES;
export const MODULE_IDS = Object.keys(MODULES) as ModuleId[];

export interface ReleaseSpec {
  sequence: number;
  release?: string;
  /** Per module type id (power/motor/radio): the version and how its firmware behaves. */
  modules: Partial<
    Record<
      ModuleId,
      { version: string; behaviour?: SimBehaviour; securityVersion?: number; order?: number; size?: number }
    >
  >;
  atomicity?: "all-or-nothing" | "independent";
  parallelism?: number;
  /** Override manifest fields (targets, expiry, device…) to provoke refusals. */
  tweak?: (manifest: Manifest) => void;
}

export class Rig {
  readonly dir: string;
  readonly stateDir: string;
  readonly key: SigningKey;
  readonly config: GatewayConfig;
  readonly sims = new Map<ModuleId, SimulatedModule>();
  readonly firmware = new Map<ModuleId, ModuleFirmware>();
  readonly events: GatewayEvent[] = [];
  #engines: UpdateEngine[] = [];
  #commandSequence = 0;

  readonly #bootloaderVersion: Partial<Record<ModuleId, number>>;

  constructor(
    options: {
      configure?: (raw: GatewayConfigInput) => void;
      /** Per module: the simulated bootloader's version (0x33 lists Get Checksum 0xA1). */
      bootloaderVersion?: Partial<Record<ModuleId, number>>;
    } = {},
  ) {
    this.#bootloaderVersion = options.bootloaderVersion ?? {};
    this.dir = mkdtempSync(join(tmpdir(), "subflash-engine-"));
    this.stateDir = join(this.dir, "state");
    this.key = createSigningKey({ label: "test" });
    writeFileSync(
      join(this.dir, "trust.json"),
      JSON.stringify(
        trustStoreDocument({ threshold: 1, keys: [{ id: this.key.id, publicKey: this.key.publicKey }] }),
      ),
    );
    const raw: GatewayConfigInput = {
      gateway: { id: GATEWAY, groups: ["line-3"] },
      trustStore: "trust.json",
      stateDir: "state",
      modules: MODULE_IDS.map((id) => ({
        id,
        type: MODULES[id].type,
        device: MODULES[id].device,
        transport: { usart: { path: `/dev/sim-${id}`, baud: 115200 } },
        entry: structuredClone(MODULES[id].entry) as never,
        layout: structuredClone(MODULES[id].layout) as never,
        health: { kind: "uart-probe", bootDelayMs: 0, timeoutMs: 300, attempts: 2 },
        timeouts: { enterMs: 5000, activateMs: 5000, healthMs: 5000 },
      })),
    };
    options.configure?.(raw);
    this.config = parseConfig(raw, { file: "rig", baseDir: this.dir });
    for (const id of MODULE_IDS) this.#createSim(id);
  }

  #createSim(id: ModuleId): void {
    const spec = MODULES[id];
    const layout: SimFirmwareLayout =
      spec.layout.kind === "single"
        ? { kind: "single", slot: spec.layout.slot }
        : {
            kind: "ab",
            slotA: spec.layout.slotA,
            slotB: spec.layout.slotB,
            bootRecord: spec.layout.bootRecord.copies,
          };
    const firmware = createModuleFirmware({ layout });
    const initial = buildSimFirmware({ version: "1.0.0", size: 3000 });
    const start = spec.layout.kind === "single" ? spec.layout.slot.address : spec.layout.slotA.address;
    const pieces: Array<{ address: number; data: Uint8Array }> = [{ address: start, data: initial }];
    if (id === "motor") {
      // A factory-written confirmed boot record for slot A.
      const record = encodeBootRecord({
        sequence: 1,
        trial: false,
        active: "a",
        activeAddress: start,
        imageLength: initial.length,
        imageCrc: stm32Crc(initial),
        fallback: "b",
        fallbackAddress: MODULES.motor.layout.slotB.address,
      });
      pieces.push({ address: MODULES.motor.layout.bootRecord.copies[0], data: record });
    }
    // Powered up in the bootloader, so the selector first runs (below) once it can program flash.
    const sim = createSimulatedModule({
      device: spec.device,
      timing: false,
      boot0: true,
      ...(this.#bootloaderVersion[id] !== undefined
        ? { bootloaderVersion: this.#bootloaderVersion[id] }
        : {}),
      initialFlash: pieces,
      app: firmware.app,
    });
    firmware.attach((address, bytes) => sim.memory.load(address, bytes));
    // The module is powered and running its application, like a deployed board.
    sim.reset("application");
    this.sims.set(id, sim);
    this.firmware.set(id, firmware);
  }

  /** A new engine on the shared state directory and modules (the previous one is simply abandoned). */
  async engine(options: Partial<EngineOptions> = {}): Promise<UpdateEngine> {
    const engine = new UpdateEngine({
      config: this.config,
      targets: createSimTargetFactory(new Map([...this.sims])),
      ...options,
    });
    engine.on("event", (event) => this.events.push(event));
    this.#engines.push(engine);
    await engine.start();
    return engine;
  }

  image(id: ModuleId, version: string, behaviour: SimBehaviour = "healthy", size = 3000): Uint8Array {
    return buildSimFirmware({ version, behaviour, size: size + MODULE_IDS.indexOf(id) * 64 });
  }

  bundle(spec: ReleaseSpec): Uint8Array {
    const { manifest, images } = this.manifest(spec);
    return createBundle({ manifest, images, keys: [this.key] });
  }

  /** The manifest and inline images of a release, before signing (tests tamper with them). */
  manifest(spec: ReleaseSpec): { manifest: Manifest; images: Uint8Array[] } {
    const entries = Object.entries(spec.modules) as Array<
      [ModuleId, NonNullable<ReleaseSpec["modules"][ModuleId]>]
    >;
    const { manifest, images } = simReleaseManifest({
      sequence: spec.sequence,
      release: spec.release ?? `release-${spec.sequence}`,
      gateways: [GATEWAY],
      atomicity: spec.atomicity ?? "all-or-nothing",
      parallelism: spec.parallelism ?? 3,
      issuedAgo: 10,
      modules: entries.map(([id, m]) => ({
        target: MODULES[id],
        version: m.version,
        image: this.image(id, m.version, m.behaviour, m.size),
        ...(m.securityVersion !== undefined ? { securityVersion: m.securityVersion } : {}),
        ...(m.order !== undefined ? { order: m.order } : {}),
      })),
    });
    spec.tweak?.(manifest);
    return { manifest, images };
  }

  command(kind: SignedCommand["kind"], extra: Partial<SignedCommand> = {}): Uint8Array {
    const now = Math.floor(Date.now() / 1000);
    this.#commandSequence++;
    return signCommand(
      {
        formatVersion: 1,
        kind,
        gateway: GATEWAY,
        sequence: this.#commandSequence,
        issuedAt: now - 10,
        expires: now + 600,
        ...extra,
      },
      [this.key],
    );
  }

  /** The version the module's application reports right now (null: not running). */
  running(id: ModuleId): { version: string | null; slot: string | null } {
    const sim = this.sims.get(id)!;
    const last = this.firmware.get(id)!.boots.at(-1);
    if (sim.state !== "application" || !last || last.outcome !== "running")
      return { version: null, slot: null };
    return { version: last.version, slot: last.slot };
  }

  /** Version of the firmware image stored at an address (null when none). */
  versionAt(id: ModuleId, address: number): string | null {
    return parseSimFirmware(this.sims.get(id)!.memory.read(address, 64))?.version ?? null;
  }

  flash(id: ModuleId, address: number, length: number): Uint8Array {
    return this.sims.get(id)!.memory.read(address, length);
  }

  /** Simulates a reset of the module as a watchdog or power cycle would: BOOT0 low, it boots flash. */
  powerCycle(id: ModuleId): void {
    const sim = this.sims.get(id)!;
    sim.powerOff();
    sim.setPins({ boot0: false });
    sim.powerOn();
  }

  statuses(engine: UpdateEngine): Record<string, ModuleStatus> {
    return Object.fromEntries(engine.moduleStatuses().map((s) => [s.module, s]));
  }

  async close(): Promise<void> {
    for (const engine of this.#engines) await engine.stop().catch(() => {});
    for (const sim of this.sims.values()) await sim.close();
    // A stopped engine's last atomic write (temp file + rename) may still be settling in the state
    // directory; Node's rm retries ENOTEMPTY for exactly this.
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}
