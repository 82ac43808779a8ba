import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSimulatedModule, SimError } from "../../../src/sim/module/index.js";
import { ACK, RawHost, pattern, withXor } from "./raw-host.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "subflash-sim-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("flash file", () => {
  it("keeps flash written over the protocol across a restart", async () => {
    const flashFile = join(dir, "g071.bin");
    const data = pattern(256, 11);
    const first = createSimulatedModule({ device: "g071", timing: false, flashFile });
    const h = new RawHost(first);
    await h.sync();
    expect(await h.writeMemory(0x08001000, data)).toBe("ack");
    // written back right after the command, before any close
    expect(readFileSync(flashFile).subarray(0x1000, 0x1100)).toEqual(Buffer.from(data));
    await first.close();

    const second = createSimulatedModule({
      device: "g071",
      timing: false,
      flashFile,
      initialFlash: new Uint8Array(16),
    });
    expect(second.memory.read(0x08001000, 256)).toEqual(data);
    expect(second.memory.read(0x08000000, 16).every((b) => b === 0xff)).toBe(true); // the file wins over initialFlash
    await second.close();
  });

  it("keeps the protection state in the sidecar option file", async () => {
    const flashFile = join(dir, "f103.bin");
    const first = createSimulatedModule({ device: "f103", timing: false, flashFile });
    const h = new RawHost(first);
    await h.sync();
    expect(await h.command(0x63)).toBe(ACK);
    expect(await h.frame(withXor(0, 3))).toBe(ACK);
    await first.close();
    expect(JSON.parse(readFileSync(`${flashFile}.options.json`, "utf8"))).toEqual({ rdp: 0, wrp: [3] });

    const second = createSimulatedModule({ device: "f103", timing: false, flashFile, rdp: 1 });
    expect(second.wrp).toEqual([3]);
    expect(second.rdp).toBe(0);
    await second.close();
  });

  it("refuses a flash file whose size does not match the device", () => {
    const flashFile = join(dir, "wrong.bin");
    writeFileSync(flashFile, new Uint8Array(1000));
    expect(() => createSimulatedModule({ device: "g071", flashFile })).toThrow(SimError);
    expect(() => createSimulatedModule({ device: "g071", flashFile })).toThrow(/1000 bytes/);
  });
});
