import { afterEach, describe, expect, it } from "vitest";
import {
  createSimulatedModule,
  type SimAppContext,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { ACK, RawHost } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

function make(options: Partial<SimOptions> = {}): RawHost {
  sim = createSimulatedModule({ device: "g071", timing: false, ...options });
  return new RawHost(sim);
}

describe("pins, wiring and power", () => {
  it("is deaf while NRST is held low and boots into the bootloader on its rising edge with BOOT0 high", async () => {
    const h = make();
    sim.setPins({ nrst: false });
    expect(sim.state).toBe("off");
    await h.send(0x7f);
    expect(await h.silence()).toBe(true);
    sim.setPins({ nrst: true });
    expect(sim.state).toBe("bootloader-sync");
    expect(await h.sync()).toBe(ACK);
  });

  it("boots the application on a reset with BOOT0 low, telling it why", () => {
    const boots: Array<SimAppContext["bootReason"]> = [];
    make({
      app: (ctx) => {
        boots.push(ctx.bootReason);
        return undefined;
      },
    });
    sim.reset("application");
    expect(sim.state).toBe("application");
    expect(boots).toEqual(["reset"]);
  });

  it("starts in the application when created with BOOT0 low", () => {
    make({ boot0: false });
    expect(sim.state).toBe("application");
  });

  it("maps the serial lines by default: DTR asserted holds reset, RTS asserted sets BOOT0 high", async () => {
    const h = make({ boot0: false });
    await h.port.setLines({ dtr: true, rts: true });
    expect(sim.state).toBe("off");
    expect(sim.pins).toEqual({ boot0: true, nrst: false });
    await h.port.setLines({ dtr: false });
    expect(sim.state).toBe("bootloader-sync");
    await h.port.setLines({ rts: false, dtr: true });
    await h.port.setLines({ dtr: false });
    expect(sim.state).toBe("application");
  });

  it("follows an inverted wiring, and ignores the lines with wiring none", async () => {
    const inverted = make({ wiring: { boot0: { line: "dtr", invert: true }, nrst: { line: "rts" } } });
    await inverted.port.setLines({ dtr: false });
    expect(sim.pins.boot0).toBe(true);
    await sim.close();
    const none = make({ wiring: "none" });
    await none.port.setLines({ dtr: true, rts: false });
    expect(sim.pins).toEqual({ boot0: true, nrst: true });
    expect(sim.state).toBe("bootloader-sync");
  });

  it("loses RAM but keeps flash across a power cycle, and powers up into WAIT_SYNC", async () => {
    const h = make();
    await h.sync();
    expect(await h.writeMemory(0x20003000, [1, 2, 3, 4])).toBe("ack");
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
    sim.powerOff();
    expect(sim.state).toBe("off");
    sim.powerOn();
    expect(sim.state).toBe("bootloader-sync");
    expect(Array.from(sim.memory.read(0x20003000, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(sim.memory.read(0x08000000, 4))).toEqual([1, 2, 3, 4]);
  });
});

describe("application model", () => {
  it("lets the application read flash and jump back into the bootloader on request", async () => {
    let seen: number[] = [];
    const h = make({
      boot0: false,
      app: (ctx) => ({
        onData(bytes, reply) {
          if (bytes[0] === 0x42) {
            reply(Uint8Array.of(0x6b)); // "ok", then jump
            ctx.enterBootloader();
            return;
          }
          seen = Array.from(ctx.flash.read(ctx.device.flash.start, 2));
          reply(Uint8Array.from(seen));
        },
      }),
    });
    sim.memory.load(0x08000000, Uint8Array.of(0xde, 0xad));
    sim.reset("application");
    await h.send(0x00);
    expect(await h.read(2)).toEqual([0xde, 0xad]);
    await h.send(0x42);
    expect(await h.read(1)).toEqual([0x6b]);
    expect(sim.state).toBe("bootloader-sync");
    expect(await h.sync()).toBe(ACK);
  });

  it("takes a jump to the bootloader made while the application starts, before any byte reaches it", async () => {
    let data = 0;
    let stopped = 0;
    const h = make({
      boot0: false,
      app: (ctx) => {
        // Firmware that finds nothing to run hands over to the ROM bootloader from its start-up code.
        ctx.enterBootloader();
        return { onData: () => void data++, stop: () => void stopped++ };
      },
    });
    expect(sim.state).toBe("bootloader-sync");
    expect(stopped).toBe(1);
    expect(await h.sync()).toBe(ACK);
    expect(data).toBe(0);
  });

  it("ignores a jump to the bootloader from an application that no longer runs", () => {
    let stale: (() => void) | undefined;
    make({
      boot0: false,
      app: (ctx) => {
        stale ??= () => ctx.enterBootloader();
        return { onData: () => {} };
      },
    });
    sim.reset("application");
    expect(sim.state).toBe("application");
    stale!();
    expect(sim.state).toBe("application");
  });

  it("stops the application on reset and ignores its late replies", async () => {
    let stopped = 0;
    let later: ((b: Uint8Array) => void) | undefined;
    const h = make({
      boot0: false,
      app: () => ({
        onData: (_bytes, reply) => {
          later = reply;
        },
        stop: () => stopped++,
      }),
    });
    await h.send(0x01);
    sim.reset("bootloader");
    expect(stopped).toBe(1);
    later?.(Uint8Array.of(0x99));
    expect(await h.silence()).toBe(true);
  });
});

describe("reset through the bootloader", () => {
  it("resets when Go jumps to a RAM stub that writes SYSRESETREQ to the AIRCR (how stm32flash -R resets)", async () => {
    const h = make({ app: () => ({ onData: () => {} }) });
    await h.sync();
    // a vector table (SP, PC) and the two literals such a stub loads
    const stub = [
      0x00, 0x50, 0x00, 0x20, 0x09, 0x30, 0x00, 0x20, 0x0c, 0xed, 0x00, 0xe0, 0x04, 0x00, 0xfa, 0x05,
    ];
    expect(await h.writeMemory(0x20003000, stub)).toBe("ack");
    expect(await h.command(0x21)).toBe(ACK);
    expect(await h.frame([0x20, 0x00, 0x30, 0x00, 0x10])).toBe(ACK);
    expect(sim.state).toBe("bootloader-sync");
  });

  it("runs other RAM code as the application", async () => {
    const h = make({ app: () => ({ onData: () => {} }) });
    await h.sync();
    expect(await h.writeMemory(0x20003000, [0x00, 0x50, 0x00, 0x20, 0x09, 0x30, 0x00, 0x20])).toBe("ack");
    expect(await h.command(0x21)).toBe(ACK);
    expect(await h.frame([0x20, 0x00, 0x30, 0x00, 0x10])).toBe(ACK);
    expect(sim.state).toBe("application");
  });
});
