import { afterEach, describe, expect, it } from "vitest";
import { TransportError } from "../../../src/targets/transport/errors.js";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

describe("in-process USART host end", () => {
  it("names the module and carries the baud", () => {
    sim = createSimulatedModule({ device: "g071", timing: false, baud: 57600 });
    const port = sim.openUsart();
    expect(port.kind).toBe("stream");
    expect(port.description).toBe("sim:g071");
    expect(port.baud).toBe(57600);
  });

  it("times out a read with TransportError timeout and keeps what did arrive for the next read", async () => {
    sim = createSimulatedModule({ device: "g071", timing: false });
    const port = sim.openUsart();
    await port.write(Uint8Array.of(0x7f));
    const error = await port.read(2, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "timeout", context: { port: "sim:g071", received: 1 } });
    expect(Array.from(await port.read(1, 20))).toEqual([0x79]);
    expect(port.stats).toEqual({ bytesWritten: 1, bytesRead: 1 });
  });

  it("drops unread input on discardInput", async () => {
    sim = createSimulatedModule({ device: "g071", timing: false });
    const port = sim.openUsart();
    await port.write(Uint8Array.of(0x7f, 0x01, 0xfe));
    port.discardInput();
    await port.write(Uint8Array.of(0x02, 0xfd));
    expect(Array.from(await port.read(5, 50))).toEqual([0x79, 0x01, 0x04, 0x60, 0x79]);
  });

  it("rejects pending and later calls with closed after close", async () => {
    sim = createSimulatedModule({ device: "g071", timing: false });
    const port = sim.openUsart();
    const pending = port.read(1, 1000);
    await port.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    await expect(port.write(Uint8Array.of(0x7f))).rejects.toMatchObject({ code: "closed" });
  });

  it("gives every open host end the replies, like a port opened twice", async () => {
    sim = createSimulatedModule({ device: "g071", timing: false });
    const a = sim.openUsart();
    const b = sim.openUsart();
    await a.write(Uint8Array.of(0x7f));
    expect(Array.from(await a.read(1, 50))).toEqual([0x79]);
    expect(Array.from(await b.read(1, 50))).toEqual([0x79]);
  });

  it("delivers replies at their modelled time with timing on", async () => {
    sim = createSimulatedModule({ device: "g071", baud: 9600 });
    const port = sim.openUsart();
    const start = performance.now();
    await port.write(Uint8Array.of(0x7f));
    await port.read(1, 100);
    expect(performance.now() - start).toBeGreaterThanOrEqual((2 * 11 * 1000) / 9600 - 0.05);
  });
});

describe("attach (tty mode)", () => {
  it("takes the host's bytes from a stream's data events and writes the replies to it, until detached", async () => {
    const { EventEmitter } = await import("node:events");
    const written: number[] = [];
    const stream = Object.assign(new EventEmitter(), {
      write: (chunk: Uint8Array) => written.push(...chunk),
    });
    sim = createSimulatedModule({ device: "f103", timing: false });
    const detach = sim.attach(stream);
    stream.emit("data", Buffer.from([0x7f, 0x02, 0xfd]));
    expect(written).toEqual([0x79, 0x79, 0x01, 0x04, 0x10, 0x79]);
    detach();
    stream.emit("data", Buffer.from([0x01, 0xfe]));
    expect(written).toHaveLength(6);
  });
});
