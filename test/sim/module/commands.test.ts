import { afterEach, describe, expect, it } from "vitest";
import {
  createSimulatedModule,
  type SimApplication,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { ACK, NACK, RawHost, addressFrame, dataFrame, pattern } from "./raw-host.js";

let sim: SimulatedModule;
afterEach(async () => sim.close());

async function synced(
  options: Partial<SimOptions> & { device?: SimOptions["device"] } = {},
): Promise<RawHost> {
  sim = createSimulatedModule({ device: "g071", timing: false, ...options });
  const h = new RawHost(sim);
  expect(await h.sync()).toBe(ACK);
  return h;
}

const hexes = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ");

describe("Get, Get Version, Get ID", () => {
  it("answers Get on an F103 with version 2.2 and the legacy Erase 0x43", async () => {
    const h = await synced({ device: "f103" });
    await h.send(0x00, 0xff);
    expect(hexes(await h.read(15))).toBe("79 0b 22 00 01 02 11 21 31 43 63 73 82 92 79");
  });

  it("answers Get on a G071 with version 3.1 and Extended Erase 0x44", async () => {
    const h = await synced({ device: "g071" });
    await h.send(0x00, 0xff);
    expect(hexes(await h.read(15))).toBe("79 0b 31 00 01 02 11 21 31 44 63 73 82 92 79");
  });

  it("adds Get Checksum 0xA1 to the list of a v3.3 bootloader", async () => {
    const h = await synced({ device: "f407", bootloaderVersion: 0x33 });
    await h.send(0x00, 0xff);
    expect(hexes(await h.read(16))).toBe("79 0c 33 00 01 02 11 21 31 44 63 73 82 92 a1 79");
  });

  it("reports an overridden command list and refuses what it leaves out", async () => {
    const h = await synced({ commands: [0x00, 0x01, 0x02, 0x11] });
    await h.send(0x00, 0xff);
    expect(hexes(await h.read(8))).toBe("79 04 31 00 01 02 11 79");
    expect(await h.command(0x31)).toBe(NACK);
  });

  it("answers Get Version with the version and two zero option bytes", async () => {
    const h = await synced({ device: "f103" });
    await h.send(0x01, 0xfe);
    expect(hexes(await h.read(5))).toBe("79 22 00 00 79");
  });

  it("answers Get ID with the device table's PID", async () => {
    const h = await synced({ device: "g071" });
    await h.send(0x02, 0xfd);
    expect(hexes(await h.read(5))).toBe("79 01 04 60 79");
    await sim.close();
    const f4 = await synced({ device: "0x413" });
    await f4.send(0x02, 0xfd);
    expect(hexes(await f4.read(5))).toBe("79 01 04 13 79");
  });

  it("counts accepted commands by opcode", async () => {
    const h = await synced();
    await h.send(0x01, 0xfe);
    await h.read(5);
    await h.send(0x01, 0xfe);
    await h.read(5);
    expect(sim.stats.commands).toEqual({ "0x01": 2 });
  });
});

describe("Read Memory 0x11", () => {
  it("returns flash content", async () => {
    const data = pattern(300);
    const h = await synced({ initialFlash: [{ address: 0x08000100, data }] });
    expect(await h.readMemory(0x08000100, 256)).toEqual(Array.from(data.subarray(0, 256)));
    expect(await h.readMemory(0x08000200, 1)).toEqual([data[256]]);
  });

  it("reads option bytes, the bootloader ID and the flash-size register", async () => {
    const h = await synced({ device: "f103" });
    expect(hexes((await h.readMemory(0x1ffff800, 4)) as number[])).toBe("a5 5a ff 00");
    expect(await h.readMemory(0x1ffff7e0, 2)).toEqual([128, 0]);
    expect(await h.readMemory(0x1ffff7d6, 1)).toEqual([0x10]);
  });

  it("reads 256 bytes at the F4 UID page (0x1FFF7A00) with the flash size at 0x1FFF7A22", async () => {
    const h = await synced({ device: "f407" });
    const page = (await h.readMemory(0x1fff7a00, 256)) as number[];
    expect(page.slice(0x22, 0x24)).toEqual([0x00, 0x04]); // 1024 KiB, little endian
    expect(page.slice(0x10, 0x1c)).not.toEqual(new Array(12).fill(0xff)); // a UID is there
  });

  it("reads 128 bytes from the L0 option bytes on into the UID area", async () => {
    const h = await synced({ device: "l073" });
    const bytes = (await h.readMemory(0x1ff80000, 128)) as number[];
    expect(bytes).toHaveLength(128);
    expect(bytes[0]).toBe(0xaa);
  });

  it("NACKs an address frame with a wrong checksum", async () => {
    const h = await synced();
    expect(await h.command(0x11)).toBe(ACK);
    const frame = addressFrame(0x08000000);
    frame[4] = frame[4]! ^ 1;
    expect(await h.frame(frame)).toBe(NACK);
  });

  it("NACKs an address in no readable area: unmapped, and the bootloader's reserved RAM", async () => {
    const h = await synced();
    expect(await h.readMemory(0x30000000, 4)).toEqual({ nackAt: "address" });
    expect(await h.readMemory(0x20000000, 4)).toEqual({ nackAt: "address" });
    expect(await h.readMemory(0x20002700, 4)).toEqual(expect.any(Array));
  });

  it("NACKs a count byte whose complement is wrong", async () => {
    const h = await synced();
    expect(await h.command(0x11)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
    expect(await h.frame([0x0f, 0x0f])).toBe(NACK);
  });

  it("NACKs a read whose end runs past the flash", async () => {
    const h = await synced();
    expect(await h.readMemory(0x0801ff00, 256)).toEqual(expect.any(Array));
    expect(await h.readMemory(0x0801ff01, 256)).toEqual({ nackAt: "count" });
  });
});

describe("Go 0x21", () => {
  it("ACKs a jump into flash, starts the application with the address, and the bootloader goes quiet", async () => {
    const started: Array<{ reason: string; address?: number }> = [];
    const h = await synced({
      app: (ctx) => {
        started.push({ reason: ctx.bootReason, address: ctx.goAddress });
        return undefined;
      },
    });
    expect(await h.command(0x21)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
    expect(sim.state).toBe("application");
    expect(started).toEqual([{ reason: "go", address: 0x08000000 }]);
    await h.send(0x7f);
    await h.send(0x00, 0xff);
    expect(await h.silence()).toBe(true);
  });

  it("passes the host's bytes to the running application, which answers at wire speed", async () => {
    const echo: SimApplication = { onData: (bytes, reply) => reply(bytes.map((b) => b + 1)) };
    const h = await synced({ app: () => echo });
    await h.command(0x21);
    await h.frame(addressFrame(0x20002800));
    await h.send(1, 2, 3);
    expect(await h.read(3)).toEqual([2, 3, 4]);
  });

  it("NACKs a jump to option bytes, system memory or reserved RAM", async () => {
    const h = await synced();
    for (const target of [0x1fff7800, 0x1fff0000, 0x20000000, 0x40000000]) {
      expect(await h.command(0x21)).toBe(ACK);
      expect(await h.frame(addressFrame(target))).toBe(NACK);
    }
    expect(sim.state).toBe("bootloader");
  });
});

describe("Write Memory 0x31", () => {
  it("programs flash that reads back", async () => {
    const h = await synced();
    const data = pattern(256, 7);
    expect(await h.writeMemory(0x08000400, data)).toBe("ack");
    expect(Array.from(sim.memory.read(0x08000400, 256))).toEqual(Array.from(data));
    expect(await h.readMemory(0x08000400, 256)).toEqual(Array.from(data));
  });

  it("writes RAM at any alignment and length", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x20003001, [1, 2, 3])).toBe("ack");
    expect(await h.readMemory(0x20003000, 5)).toEqual([0, 1, 2, 3, 0]);
  });

  it("NACKs a flash address that is not 4-byte aligned, at the address phase", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x08000002, [0, 0, 0, 0])).toBe("nack-address");
  });

  it("NACKs a flash write whose length is not a multiple of 4, and writes nothing", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x08000000, [1, 2, 3, 4, 5, 6])).toBe("nack-data");
    expect(Array.from(sim.memory.read(0x08000000, 8))).toEqual(new Array(8).fill(0xff));
  });

  it("NACKs a data frame with a wrong checksum", async () => {
    const h = await synced();
    expect(await h.command(0x31)).toBe(ACK);
    expect(await h.frame(addressFrame(0x08000000))).toBe(ACK);
    const frame = dataFrame([1, 2, 3, 4]);
    frame[frame.length - 1] = frame[frame.length - 1]! ^ 0x80;
    expect(await h.frame(frame)).toBe(NACK);
    expect(sim.memory.read(0x08000000, 4)).toEqual(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  });

  it("NACKs writes into the bootloader's reserved RAM and into system memory", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x20000100, [1, 2, 3, 4])).toBe("nack-address");
    expect(await h.writeMemory(0x1fff0000, [1, 2, 3, 4])).toBe("nack-address");
  });

  it("NACKs a write at the end of flash (0x08020000 on a 128 KiB G071) at the address phase", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x08020000, [1, 2, 3, 4])).toBe("nack-address");
  });

  it("NACKs a write whose end runs past the flash", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x0801fffc, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("nack-data");
    expect(await h.writeMemory(0x0801fff8, [1, 2, 3, 4, 5, 6, 7, 8])).toBe("ack");
  });

  it("programs option bytes and then resets: RDP level 1 after writing a non-0xAA RDP byte", async () => {
    const h = await synced();
    expect(await h.writeMemory(0x1fff7800, [0xbb, 0xff, 0xff, 0xff])).toBe("ack");
    expect(sim.state).toBe("bootloader-sync");
    expect(sim.rdp).toBe(1);
    expect(await h.sync()).toBe(ACK);
    expect(await h.readMemory(0x08000000, 4)).toEqual({ nackAt: "command" });
  });
});
