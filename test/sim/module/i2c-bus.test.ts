/**
 * The simulated I2C bus and the module's I2C front-end (AN4221 transactions): address acknowledge,
 * replies read in exact-length transactions, what short and long reads do, interface selection,
 * the wire-time model and the bus-level faults.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TransportError } from "../../../src/targets/transport/errors.js";
import {
  createSimI2cBus,
  createSimulatedModule,
  type SimI2cBus,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import type { I2cTransport } from "../../../src/targets/transport/transport.js";

const ACK = 0x79;
const NACK = 0x1f;
const G071 = 0x51;

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (error instanceof TransportError) return error;
  throw error;
}

/** `cmd ~cmd` then the command ACK. */
async function command(t: I2cTransport, code: number): Promise<number> {
  await t.writeTransaction(Uint8Array.of(code, code ^ 0xff));
  return (await t.readTransaction(1))[0]!;
}

describe("simulated I2C bus", () => {
  let bus: SimI2cBus | undefined;
  const modules: SimulatedModule[] = [];
  afterEach(async () => {
    bus?.close();
    bus = undefined;
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });

  function module(device: string, options: Record<string, unknown> = {}): SimulatedModule {
    const m = createSimulatedModule({ device, timing: false, ...options });
    modules.push(m);
    return m;
  }

  it("puts a module at its AN2606 bootloader address and NACKs addresses nobody holds", async () => {
    bus = createSimI2cBus({ timing: false });
    expect(bus.attach(module("g071"))).toBe(G071);
    expect(bus.addresses).toEqual([G071]);
    expect(await command(bus.openTransport(G071), 0x01)).toBe(ACK);
    const error = await rejection(bus.openTransport(0x52).writeTransaction(Uint8Array.of(0x01, 0xfe)));
    expect(error.code).toBe("i2c-nack");
    expect(error.message).toContain("no device acknowledged address 0x52 on sim-i2c");
    expect(error.context).toMatchObject({ address: 0x52 });
    expect(() => bus!.attach(module("f407"))).toThrow(/no known I2C bootloader address/);
  });

  it("serves Get as three read transactions of exact lengths: ACK, the counted list, ACK", async () => {
    bus = createSimI2cBus({ timing: false });
    bus.attach(module("g071", { i2cVersion: 0x11 }));
    const t = bus.openTransport(G071);
    expect(await command(t, 0x00)).toBe(ACK);
    const list = await t.readTransaction(19);
    expect(Array.from(list)).toEqual([
      17, 0x11, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92, 0x32, 0x45, 0x64, 0x74,
      0x83, 0x93,
    ]);
    expect(await t.readTransaction(1)).toEqual(Uint8Array.of(ACK));
  });

  it("drops the rest of a reply the master reads short, and waits for a new command", async () => {
    bus = createSimI2cBus({ timing: false });
    bus.attach(module("g071"));
    const t = bus.openTransport(G071);
    expect(await command(t, 0x00)).toBe(ACK);
    expect((await t.readTransaction(5))[0]).toBe(18);
    // The final ACK is gone with the abandoned command: a v1.2 ROM answers a read with idle 0xFF.
    expect(await t.readTransaction(1)).toEqual(Uint8Array.of(0xff));
    expect(await command(t, 0xff)).toBe(NACK);
    expect(await command(t, 0x01)).toBe(ACK);
  });

  it("holds SCL after the last byte of a reply read too long, until the adapter times out", async () => {
    bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 30 });
    bus.attach(module("g071"));
    const t = bus.openTransport(G071);
    expect(await command(t, 0x02)).toBe(ACK);
    const started = performance.now();
    const error = await rejection(t.readTransaction(10));
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(error.code).toBe("timeout");
    expect(error.message).toContain("sent its 3-byte reply and then held SCL low (10 bytes were read)");
    expect(bus.stats.timeouts).toBe(1);
    expect(await command(t, 0x01)).toBe(ACK); // the command was abandoned: back at a command boundary
  });

  it("completes a probe read with 0xFF on a v1.2 bootloader and stalls it on v1.0", async () => {
    bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 20 });
    bus.attach(module("g071", { i2cVersion: 0x12 }), 0x51);
    bus.attach(module("g071", { i2cVersion: 0x10 }), 0x52);
    expect(await bus.openTransport(0x51).readTransaction(1)).toEqual(Uint8Array.of(0xff));
    expect((await rejection(bus.openTransport(0x52).readTransaction(1))).code).toBe("timeout");
  });

  it("carries two modules at different addresses, each with its own identity and flash", async () => {
    bus = createSimI2cBus({ timing: false });
    const a = module("g071");
    const b = module("f072");
    bus.attach(a);
    bus.attach(b);
    expect(bus.addresses).toEqual([0x51, 0x56]);
    for (const [address, pid] of [
      [0x51, 0x460],
      [0x56, 0x448],
    ] as const) {
      const t = bus.openTransport(address);
      expect(await command(t, 0x02)).toBe(ACK);
      const id = await t.readTransaction(3);
      expect((id[1]! << 8) | id[2]!).toBe(pid);
      expect(await t.readTransaction(1)).toEqual(Uint8Array.of(ACK));
    }
    expect(a.stats.commands).toEqual({ "0x02": 1 });
    expect(b.stats.commands).toEqual({ "0x02": 1 });
  });

  it("keeps the interface addressed first: after I2C contact the USART 0x7F goes unanswered, and the other way", async () => {
    bus = createSimI2cBus({ timing: false });
    const first = module("g071");
    bus.attach(first);
    expect(await command(bus.openTransport(G071), 0x01)).toBe(ACK);
    await bus.openTransport(G071).readTransaction(1); // the version
    await bus.openTransport(G071).readTransaction(1); // the final ACK
    const usart = first.openUsart();
    await usart.write(Uint8Array.of(0x7f));
    expect((await rejection(usart.read(1, 50))).code).toBe("timeout");

    const second = module("g071");
    bus.attach(second, 0x52);
    const line = second.openUsart();
    await line.write(Uint8Array.of(0x7f));
    expect(await line.read(1, 200)).toEqual(Uint8Array.of(ACK));
    expect((await rejection(bus.openTransport(0x52).writeTransaction(Uint8Array.of(0x01, 0xfe)))).code).toBe(
      "i2c-nack",
    );
  });

  it("does not acknowledge its address while held in reset or running its application", async () => {
    bus = createSimI2cBus({ timing: false });
    const m = module("g071");
    bus.attach(m);
    m.setPins({ nrst: false });
    expect((await rejection(bus.openTransport(G071).writeTransaction(Uint8Array.of(0x01, 0xfe)))).code).toBe(
      "i2c-nack",
    );
    m.reset("application");
    expect(m.state).toBe("application");
    expect((await rejection(bus.openTransport(G071).readTransaction(1))).code).toBe("i2c-nack");
    m.reset("bootloader");
    expect(await command(bus.openTransport(G071), 0x01)).toBe(ACK);
  });

  it("costs 11 + 9n bit times per transaction at the bus clock (timing on)", async () => {
    bus = createSimI2cBus({ clockHz: 100_000 });
    bus.attach(module("g071"));
    const t = bus.openTransport(G071);
    const frame = new Uint8Array(258).fill(0xff); // answered by nothing in particular: the core waits for a command
    const started = performance.now();
    await t.writeTransaction(frame.subarray(0, 2)); // FF FF: a bad command frame, NACKed
    await t.readTransaction(1);
    const elapsed = performance.now() - started;
    const model = ((11 + 2 * 9 + (11 + 1 * 9)) * 10) / 1000; // µs → ms at 100 kHz (10 µs a bit)
    expect(bus.stats.wireMs).toBeCloseTo(model, 6);
    expect(elapsed).toBeGreaterThanOrEqual(model - 0.01);
    expect(bus.transactionMs(258)).toBeCloseTo(((11 + 258 * 9) * 1000) / 100_000, 9);
  });

  describe("faults", () => {
    it("NACKs an address for the next n transactions", async () => {
      bus = createSimI2cBus({ timing: false });
      bus.attach(module("g071"));
      const fault = bus.injectFault({ kind: "nack-address", address: G071, count: 2 });
      const t = bus.openTransport(G071);
      expect((await rejection(t.writeTransaction(Uint8Array.of(0x01, 0xfe)))).code).toBe("i2c-nack");
      expect((await rejection(t.writeTransaction(Uint8Array.of(0x01, 0xfe)))).code).toBe("i2c-nack");
      expect(await command(t, 0x01)).toBe(ACK);
      expect(fault).toMatchObject({ fired: true, remaining: 0 });
    });

    it("cuts the nth read short: the transport reports a short read and the device abandons the reply", async () => {
      bus = createSimI2cBus({ timing: false });
      bus.attach(module("g071"));
      const t = bus.openTransport(G071);
      bus.injectFault({ kind: "short-read", address: G071, nth: 2, bytes: 4 });
      expect(await command(t, 0x00)).toBe(ACK); // read 1
      const error = await rejection(t.readTransaction(20)); // read 2
      expect(error.code).toBe("io-error");
      expect(error.context).toMatchObject({ wanted: 20, got: 4 });
      expect(await command(t, 0x01)).toBe(ACK);
    });

    it("times every transaction out while the bus is stuck, until the fault is cleared", async () => {
      bus = createSimI2cBus({ timing: false, adapterTimeoutMs: 10 });
      bus.attach(module("g071"));
      bus.injectFault({ kind: "stuck-bus" });
      const t = bus.openTransport(G071);
      const error = await rejection(t.writeTransaction(Uint8Array.of(0x01, 0xfe)));
      expect(error.code).toBe("timeout");
      expect(error.message).toContain("the bus is stuck (SDA held low)");
      expect((await rejection(t.readTransaction(1))).code).toBe("timeout");
      bus.clearFaults();
      expect(await command(t, 0x01)).toBe(ACK);
    });
  });
});
