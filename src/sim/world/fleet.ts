/**
 * The demo product: a gateway with three STM32 modules of different families, each reached in its
 * own way, plus helpers to write its configuration and build signed releases for it. The demo, the
 * integration tests and the benchmark all use it, so what the demo shows is what the tests check.
 *
 * - power:  STM32F103 (F1), single slot, BOOT0/NRST on GPIO lines;
 * - motor:  STM32G071 (G0), A/B slots, enters its bootloader on an application command; its
 *           bootloader (USART v3.3) offers Get Checksum, so its images are verified by CRC on the
 *           device (power and radio by read-back; the I2C sensor's v1.2 bootloader has it too);
 * - radio:  STM32F407 (F4), A/B slots in 128 KiB sectors, BOOT0/NRST on the adapter's RTS/DTR;
 * - sensor: STM32G071 (G0) on an I2C bus (AN4221, address 0x51), A/B slots, BOOT0/NRST on GPIO
 *           lines (DEMO_I2C_MODULE; `subflash demo` runs all four, DEMO_FLEET).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GatewayConfigInput } from "../../gateway/index.js";
import { createBundle, signCommand } from "../../manifest/index.js";
import { simReleaseManifest } from "./release-builder.js";
import type { Atomicity, Manifest, SignedCommand } from "../../manifest/index.js";
import type { SigningKey } from "../../signing/index.js";
import { trustStoreDocument } from "../../signing/index.js";
import { buildSimFirmware } from "../firmware/image-format.js";
import type { SimBehaviour } from "../firmware/image-format.js";

export interface FleetModule {
  id: string;
  type: string;
  device: string;
  pid: number;
  family: string;
  layout:
    | { kind: "single"; slot: { address: number; size: number } }
    | {
        kind: "ab";
        slotA: { address: number; size: number };
        slotB: { address: number; size: number };
        bootRecord: { copies: [number, number] };
      };
  entry: Record<string, unknown>;
  /** On an I2C bus instead of a serial line: bus number and 7-bit bootloader address. */
  i2c?: { bus: number; address: number };
  /** Its ROM bootloader's USART protocol version, when not the device table's (0x33 adds Get Checksum). */
  bootloaderVersion?: number;
}

export const DEMO_MODULES: readonly FleetModule[] = [
  {
    id: "power",
    type: "power-board",
    device: "f103",
    pid: 0x410,
    family: "STM32F1",
    layout: { kind: "single", slot: { address: 0x08000000, size: 0x10000 } },
    entry: { method: "gpio", chip: "gpiochip0", boot0: 17, nrst: 27, resetPulseMs: 5, settleMs: 5 },
  },
  {
    id: "motor",
    type: "motor-board",
    device: "g071",
    pid: 0x460,
    family: "STM32G0",
    layout: {
      kind: "ab",
      slotA: { address: 0x08004000, size: 0xe000 },
      slotB: { address: 0x08012000, size: 0xe000 },
      bootRecord: { copies: [0x08002000, 0x08002800] },
    },
    entry: { method: "app-command", send: "!boot\\n", settleMs: 5 },
    // A newer bootloader (protocol v3.3) with Get Checksum: its images are verified by CRC on the device.
    bootloaderVersion: 0x33,
  },
  {
    id: "radio",
    type: "radio-board",
    device: "f407",
    pid: 0x413,
    family: "STM32F4",
    layout: {
      kind: "ab",
      slotA: { address: 0x08020000, size: 0x20000 },
      slotB: { address: 0x08040000, size: 0x20000 },
      bootRecord: { copies: [0x08004000, 0x08008000] },
    },
    entry: { method: "serial-lines", pulseMs: 5, settleMs: 5 },
  },
];

/** A fourth module, reached over I2C: its bootloader on bus 1 at its AN2606 address. */
export const DEMO_I2C_MODULE: FleetModule = {
  id: "sensor",
  type: "sensor-board",
  device: "g071",
  pid: 0x460,
  family: "STM32G0",
  layout: {
    kind: "ab",
    slotA: { address: 0x08004000, size: 0xe000 },
    slotB: { address: 0x08012000, size: 0xe000 },
    bootRecord: { copies: [0x08002000, 0x08002800] },
  },
  entry: { method: "gpio", chip: "gpiochip0", boot0: 22, nrst: 23, resetPulseMs: 5, settleMs: 5 },
  i2c: { bus: 1, address: 0x51 },
};

/** The whole demo product: the three serial-line modules and the I2C one. */
export const DEMO_FLEET: readonly FleetModule[] = [...DEMO_MODULES, DEMO_I2C_MODULE];

export interface FleetConfigOptions {
  gateway: string;
  groups?: string[];
  /** Directory for trust.json and state/ (the config's relative paths point there). */
  dir: string;
  key: SigningKey;
  mqtt?: GatewayConfigInput["mqtt"];
  baud?: number;
  modules?: readonly FleetModule[];
  /** Modules on one shared serial line (updated one at a time) instead of one line each. */
  sharedLine?: boolean;
}

/** Writes trust.json into `dir` and returns the gateway configuration (validate with parseConfig). */
export function fleetConfig(opts: FleetConfigOptions): GatewayConfigInput {
  writeFileSync(
    join(opts.dir, "trust.json"),
    JSON.stringify(
      trustStoreDocument({
        threshold: 1,
        keys: [{ id: opts.key.id, publicKey: opts.key.publicKey, label: "demo release key" }],
      }),
      null,
      2,
    ),
  );
  return {
    gateway: { id: opts.gateway, groups: opts.groups ?? [] },
    ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
    trustStore: "trust.json",
    stateDir: "state",
    maxParallel: 8,
    modules: (opts.modules ?? DEMO_MODULES).map((m) => ({
      id: m.id,
      type: m.type,
      device: m.device,
      transport: m.i2c
        ? { i2c: { bus: m.i2c.bus, address: m.i2c.address } }
        : {
            usart: {
              path: opts.sharedLine ? "/dev/sim-shared" : `/dev/sim-${m.id}`,
              baud: opts.baud ?? 115200,
            },
          },
      entry: structuredClone(m.entry) as never,
      layout: structuredClone(m.layout) as never,
      // An I2C module's application answers the probe on its own UART.
      health: {
        kind: "uart-probe",
        bootDelayMs: 20,
        timeoutMs: 500,
        attempts: 2,
        ...(m.i2c ? { path: `/dev/sim-${m.id}-app` } : {}),
      },
      timeouts: { enterMs: 10_000, activateMs: 10_000, healthMs: 10_000 },
    })),
  };
}

export interface ReleaseModule {
  version: string;
  behaviour?: SimBehaviour;
  securityVersion?: number;
  order?: number;
}

export interface FleetRelease {
  sequence: number;
  release: string;
  gateways?: string[];
  groups?: string[];
  /** By module id. */
  modules: Record<string, ReleaseModule>;
  atomicity?: Atomicity;
  parallelism?: number;
  /** Size of every image in bytes (default 16 KiB). */
  imageSize?: number;
  /** Validity from now, seconds (default one hour). */
  expiresIn?: number;
  /** Change the manifest before signing (tests use it to provoke refusals). */
  tweak?: (manifest: Manifest) => void;
}

/** The image a release puts on a module (the simulated firmware reports `version` to the health probe). */
export function fleetImage(
  version: string,
  behaviour: SimBehaviour = "healthy",
  size = 16 * 1024,
): Uint8Array {
  return buildSimFirmware({ version, behaviour, size });
}

/** A signed bundle for the fleet, images inline. */
export function fleetBundle(
  release: FleetRelease,
  key: SigningKey,
  modules: readonly FleetModule[] = DEMO_MODULES,
): Uint8Array {
  const { manifest, images } = simReleaseManifest({
    sequence: release.sequence,
    release: release.release,
    gateways: release.gateways ?? [],
    groups: release.groups ?? [],
    atomicity: release.atomicity ?? "all-or-nothing",
    parallelism: release.parallelism ?? modules.length,
    ...(release.expiresIn !== undefined ? { expiresIn: release.expiresIn } : {}),
    modules: Object.entries(release.modules).map(([id, spec]) => {
      const target = modules.find((m) => m.id === id);
      if (!target) throw new Error(`no module "${id}" in the fleet`);
      return {
        target,
        version: spec.version,
        image: fleetImage(spec.version, spec.behaviour, release.imageSize),
        ...(spec.securityVersion !== undefined ? { securityVersion: spec.securityVersion } : {}),
        ...(spec.order !== undefined ? { order: spec.order } : {}),
      };
    }),
  });
  release.tweak?.(manifest);
  return createBundle({ manifest, images, keys: [key] });
}

/** A signed command for one gateway. */
export function fleetCommand(
  key: SigningKey,
  command: {
    kind: SignedCommand["kind"];
    gateway: string;
    sequence: number;
    module?: string;
    bundle?: { sequence: number };
  },
): Uint8Array {
  const now = Math.floor(Date.now() / 1000);
  return signCommand(
    {
      formatVersion: 1,
      kind: command.kind,
      gateway: command.gateway,
      sequence: command.sequence,
      issuedAt: now - 5,
      expires: now + 600,
      ...(command.module !== undefined ? { module: command.module } : {}),
      ...(command.bundle !== undefined ? { bundle: command.bundle } : {}),
    },
    [key],
  );
}
