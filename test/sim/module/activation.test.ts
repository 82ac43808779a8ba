import { afterEach, describe, expect, it } from "vitest";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

function host(device = "g071"): RawHost {
  sim = createSimulatedModule({ device, timing: false });
  return new RawHost(sim);
}

describe("USART activation (AN3155 §2.1)", () => {
  it("answers the first 0x7F with ACK and becomes synchronised", async () => {
    const h = host();
    expect(sim.state).toBe("bootloader-sync");
    expect(await h.sync()).toBe(ACK);
    expect(sim.state).toBe("bootloader");
  });

  it("ignores bytes received before the 0x7F", async () => {
    const h = host();
    await h.send(0x00, 0xff, 0x01, 0xfe, 0x55);
    expect(await h.silence()).toBe(true);
    expect(await h.sync()).toBe(ACK);
    expect(await h.command(0x01)).toBe(ACK);
  });

  it("takes a lone 0x7F after synchronisation as the first byte of a command and stays silent", async () => {
    const h = host();
    await h.sync();
    await h.send(0x7f);
    expect(await h.silence()).toBe(true);
  });

  it("answers a second 0x7F with NACK: the pair 7F 7F has a wrong complement", async () => {
    const h = host();
    await h.sync();
    await h.send(0x7f);
    expect(await h.silence()).toBe(true);
    await h.send(0x7f);
    expect(await h.read(1)).toEqual([NACK]);
    // and the module still takes commands afterwards
    expect(await h.command(0x02)).toBe(ACK);
  });

  it("NACKs a command frame whose complement is wrong", async () => {
    const h = host();
    await h.sync();
    await h.send(0x00, 0x00);
    expect(await h.read(1)).toEqual([NACK]);
  });

  it("NACKs an opcode missing from its Get list (Erase 0x43 on a v3.1 part, 0x44 on a v2.2 part)", async () => {
    const g0 = host("g071");
    await g0.sync();
    expect(await g0.command(0x43)).toBe(NACK);
    await sim.close();
    const f1 = host("f103");
    await f1.sync();
    expect(await f1.command(0x44)).toBe(NACK);
    expect(await f1.command(0x43)).toBe(ACK);
  });

  it("NACKs the resync pair FF 00 (a valid complement for an opcode that does not exist)", async () => {
    const h = host();
    await h.sync();
    await h.send(0xff, 0x00);
    expect(await h.read(1)).toEqual([NACK]);
  });
});
