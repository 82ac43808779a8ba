/**
 * I2C modules in the gateway: two simulated modules on one simulated I2C bus (at different
 * addresses, the bus written two ways in the config) are updated from one bundle, one after the
 * other, and both committed. Plus the configuration checks an I2C module gets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeBootRecord } from "../../src/targets/ab/boot-record.js";
import { busOf, parseConfig, portOf, type GatewayConfigInput } from "../../src/gateway/config/config.js";
import { UpdateEngine } from "../../src/gateway/engine.js";
import { createSimTargetFactory } from "../../src/sim/world/sim-targets.js";
import type { GatewayEvent } from "../../src/gateway/status/types.js";
import { createBundle, describeImage, type Manifest } from "../../src/manifest/index.js";
import { createSigningKey, stm32Crc, trustStoreDocument } from "../../src/signing/index.js";
import {
  createSimI2cBus,
  createSimulatedModule,
  type SimI2cBus,
  type SimulatedModule,
} from "../../src/sim/module/index.js";
import { buildSimFirmware } from "../../src/sim/firmware/image-format.js";
import { createModuleFirmware } from "../../src/sim/firmware/module-firmware.js";

const GATEWAY = "gw-i2c";
const MOTOR = {
  slotA: { address: 0x08004000, size: 0xe000 },
  slotB: { address: 0x08012000, size: 0xe000 },
  bootRecord: [0x08002000, 0x08002800] as const,
};
const SENSOR = { slot: { address: 0x08000000, size: 0x10000 } };

function i2cModules(bus2: number | string): GatewayConfigInput["modules"] {
  return [
    {
      id: "motor",
      type: "motor-board",
      device: "g071",
      transport: { i2c: { bus: 1, address: 0x51 } },
      entry: { method: "gpio", chip: "gpiochip0", boot0: 5, nrst: 6, resetPulseMs: 1, settleMs: 1 },
      layout: {
        kind: "ab",
        slotA: MOTOR.slotA,
        slotB: MOTOR.slotB,
        bootRecord: { copies: [...MOTOR.bootRecord] },
      },
      health: { kind: "uart-probe", path: "/dev/sim-motor-app", bootDelayMs: 0, timeoutMs: 300, attempts: 2 },
      timeouts: { enterMs: 5000, activateMs: 5000, healthMs: 5000 },
    },
    {
      id: "sensor",
      type: "sensor-board",
      device: "f072",
      transport: { i2c: { bus: bus2, address: "0x56" } },
      entry: { method: "gpio", chip: "gpiochip0", boot0: 7, nrst: 8, resetPulseMs: 1, settleMs: 1 },
      layout: { kind: "single", slot: SENSOR.slot },
      health: {
        kind: "uart-probe",
        path: "/dev/sim-sensor-app",
        bootDelayMs: 0,
        timeoutMs: 300,
        attempts: 2,
      },
      timeouts: { enterMs: 5000, activateMs: 5000, healthMs: 5000 },
    },
  ];
}

class I2cGateway {
  readonly dir = mkdtempSync(join(tmpdir(), "subflash-i2c-engine-"));
  readonly key = createSigningKey({ label: "test" });
  readonly bus: SimI2cBus = createSimI2cBus({ timing: false });
  readonly sims = new Map<string, SimulatedModule>();
  readonly firmware = new Map<string, ReturnType<typeof createModuleFirmware>>();
  readonly events: GatewayEvent[] = [];
  engine: UpdateEngine | undefined;

  constructor() {
    writeFileSync(
      join(this.dir, "trust.json"),
      JSON.stringify(
        trustStoreDocument({ threshold: 1, keys: [{ id: this.key.id, publicKey: this.key.publicKey }] }),
      ),
    );
    const initial = buildSimFirmware({ version: "1.0.0", size: 3000 });
    // motor: G071 A/B with a confirmed boot record for slot A.
    const record = encodeBootRecord({
      sequence: 1,
      trial: false,
      active: "a",
      activeAddress: MOTOR.slotA.address,
      imageLength: initial.length,
      imageCrc: stm32Crc(initial),
      fallback: "b",
      fallbackAddress: MOTOR.slotB.address,
    });
    this.#module(
      "motor",
      "g071",
      { kind: "ab", slotA: MOTOR.slotA, slotB: MOTOR.slotB, bootRecord: MOTOR.bootRecord },
      [
        { address: MOTOR.slotA.address, data: initial },
        { address: MOTOR.bootRecord[0], data: record },
      ],
    );
    this.#module("sensor", "f072", { kind: "single", slot: SENSOR.slot }, [
      { address: SENSOR.slot.address, data: initial },
    ]);
  }

  #module(
    id: string,
    device: string,
    layout: Parameters<typeof createModuleFirmware>[0]["layout"],
    flash: Array<{ address: number; data: Uint8Array }>,
  ): void {
    const firmware = createModuleFirmware({ layout });
    const sim = createSimulatedModule({
      device,
      timing: false,
      boot0: true,
      initialFlash: flash,
      app: firmware.app,
    });
    firmware.attach((address, bytes) => sim.memory.load(address, bytes));
    sim.reset("application");
    this.bus.attach(sim);
    this.sims.set(id, sim);
    this.firmware.set(id, firmware);
  }

  async start(bus2: number | string): Promise<UpdateEngine> {
    const config = parseConfig(
      {
        gateway: { id: GATEWAY, groups: [] },
        trustStore: "trust.json",
        stateDir: "state",
        modules: i2cModules(bus2),
      },
      { file: "i2c-rig", baseDir: this.dir },
    );
    this.engine = new UpdateEngine({
      config,
      targets: createSimTargetFactory(this.sims, new Map([[1, this.bus]])),
    });
    this.engine.on("event", (event) => this.events.push(event));
    await this.engine.start();
    return this.engine;
  }

  bundle(version: string): Uint8Array {
    const now = Math.floor(Date.now() / 1000);
    const motor = buildSimFirmware({ version, size: 5000 });
    const sensor = buildSimFirmware({ version, size: 4000 });
    const manifest: Manifest = {
      formatVersion: 1,
      sequence: 1,
      issuedAt: now - 10,
      expires: now + 3600,
      targets: { gateways: [GATEWAY], groups: [] },
      release: `i2c-${version}`,
      policy: { atomicity: "all-or-nothing", parallelism: 4 },
      modules: {
        "motor-board": {
          version,
          securityVersion: 0,
          slots: {
            a: describeImage(motor, { address: MOTOR.slotA.address, source: { inline: 0 } }),
            b: describeImage(motor, { address: MOTOR.slotB.address, source: { inline: 0 } }),
          },
          order: 0,
          dependsOn: [],
          device: { pid: 0x460 },
        },
        "sensor-board": {
          version,
          securityVersion: 0,
          slots: { single: describeImage(sensor, { address: SENSOR.slot.address, source: { inline: 1 } }) },
          order: 0,
          dependsOn: [],
          device: { pid: 0x448 },
        },
      },
    };
    return createBundle({ manifest, images: [motor, sensor], keys: [this.key] });
  }

  running(id: string): string | null {
    const last = this.firmware.get(id)!.boots.at(-1);
    return this.sims.get(id)!.state === "application" && last?.outcome === "running" ? last.version : null;
  }

  async close(): Promise<void> {
    await this.engine?.stop().catch(() => {});
    this.bus.close();
    for (const sim of this.sims.values()) await sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("I2C modules in the gateway", () => {
  let gw: I2cGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it("updates two modules on one I2C bus from one bundle, one after the other, and commits both", async () => {
    gw = new I2cGateway();
    const engine = await gw.start("/dev/i2c-1"); // the same bus as `bus: 1`
    const outcome = await engine.submitBundle(gw.bundle("2.0.0"), { topic: `subflash/${GATEWAY}/update` });
    expect(outcome).toMatchObject({ ok: true, status: "accepted" });
    await engine.idle();

    const status = Object.fromEntries(engine.moduleStatuses().map((s) => [s.module, s]));
    expect(status.motor).toMatchObject({
      state: "committed",
      version: "2.0.0",
      activeSlot: "b",
      lastError: null,
    });
    expect(status.sensor).toMatchObject({
      state: "committed",
      version: "2.0.0",
      activeSlot: "single",
      lastError: null,
    });
    expect(gw.running("motor")).toBe("2.0.0");
    expect(gw.running("sensor")).toBe("2.0.0");

    // One at a time: the second module leaves "queued" only after the first is committed.
    const moves = gw.events.filter((e) => e.type === "transition");
    const started = (id: string): number => moves.findIndex((e) => e.module === id && e.from === "queued");
    const committed = (id: string): number => moves.findIndex((e) => e.module === id && e.to === "committed");
    const [first, second] = started("motor") < started("sensor") ? ["motor", "sensor"] : ["sensor", "motor"];
    expect(started(first)).toBeGreaterThanOrEqual(0);
    expect(started(second)).toBeGreaterThan(committed(first));

    // Both went through their I2C bootloaders: the G071's v1.2 with No-Stretch commands, the F072's
    // v1.0 (device table) with the clock-stretching ones.
    expect(gw.sims.get("motor")!.stats.commands).toMatchObject({
      "0x45": expect.any(Number),
      "0x32": expect.any(Number),
    });
    expect(gw.sims.get("motor")!.stats.commands["0x31"]).toBeUndefined();
    expect(gw.sims.get("sensor")!.stats.commands).toMatchObject({
      "0x44": expect.any(Number),
      "0x31": expect.any(Number),
    });
    expect(gw.bus.stats.timeouts).toBe(0);
  });
});

describe("I2C module configuration", () => {
  const base = (modules: GatewayConfigInput["modules"]): GatewayConfigInput => ({
    gateway: { id: GATEWAY },
    trustStore: "t.json",
    stateDir: "s",
    modules,
  });

  it("puts modules on the same I2C bus on one planner bus, whatever the address and however the bus is written", () => {
    const config = parseConfig(base(i2cModules("i2c-1")), { file: "x", baseDir: "/tmp", checkFiles: false });
    expect(config.modules.map(busOf)).toEqual(["i2c:1", "i2c:1"]);
    expect(config.modules.map(portOf)).toEqual(["/dev/i2c-1@0x51", "/dev/i2c-1@0x56"]);
    const other = parseConfig(base(i2cModules(2)), { file: "x", baseDir: "/tmp", checkFiles: false });
    expect(other.modules.map(busOf)).toEqual(["i2c:1", "i2c:2"]);
  });

  it("reports what an I2C module cannot have, each problem by path", () => {
    const [motor] = i2cModules(1);
    const problems = (modules: unknown[]): string => {
      try {
        parseConfig(base(modules as GatewayConfigInput["modules"]), {
          file: "x",
          baseDir: "/tmp",
          checkFiles: false,
        });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error("expected the configuration to be refused");
    };
    const shape = problems([
      { ...motor!, id: "a", transport: { i2c: { bus: 1, address: 0xa2 } } },
      { ...motor!, id: "b", transport: { i2c: { bus: "ttyS1", address: 0x51 } } },
      { ...motor!, id: "c", transport: { i2c: { bus: 1, address: 0x51 }, usart: { path: "/dev/ttyS1" } } },
    ]);
    expect(shape).toContain("modules[0].transport.i2c.address: must be a 7-bit slave address in 0x03..0x77");
    expect(shape).toContain("modules[1].transport.i2c.bus: expected a bus number or /dev/i2c-N");
    expect(shape).toContain("modules[2].transport: give exactly one of usart or i2c");
    const semantic = problems([
      { ...motor!, id: "a", entry: { method: "serial-lines" } },
      { ...motor!, id: "b", health: { kind: "uart-probe" } },
      { ...motor!, id: "c", entry: { method: "app-command", send: "!boot\\n" } },
    ]);
    expect(semantic).toContain('modules[0].entry.method: "serial-lines" drives a serial adapter\'s DTR/RTS');
    expect(semantic).toContain(
      "modules[1].health.path: an I2C module's uart-probe needs the application's serial port",
    );
    expect(semantic).toContain(
      "modules[2].entry.path: an I2C module's application command needs the application's serial port",
    );
  });
});
