import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ptySupport } from "../../../src/targets/transport/pty.js";
import { openSerialTransport } from "../../../src/targets/transport/usart.js";
import type { StreamTransport } from "../../../src/targets/transport/transport.js";
import { startSimProcess, type SimProcess } from "./sim-process.js";

const pty = await ptySupport();

describe.skipIf(!pty.available && !pty.required)(
  `subflash sim on a pseudo-terminal${pty.available ? "" : ` (${pty.reason})`}`,
  () => {
    let sim: SimProcess;
    let port: StreamTransport;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "subflash-sim-tty-"));
      sim = await startSimProcess([
        "--device",
        "g071",
        "--stats-file",
        join(dir, "stats.json"),
        "--flash-file",
        join(dir, "flash.bin"),
      ]);
      port = await openSerialTransport(sim.hostPath, { parity: "none", baud: 115200 });
    });

    afterAll(async () => {
      await port?.close();
      await sim?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("prints what it simulates, where and how fast", () => {
      expect(sim.banner).toBe(
        `simulating STM32G07x/G08x (PID 0x460, bootloader v3.1) on ${sim.pty.a} at 115200 baud`,
      );
    });

    it("answers 0x7F with ACK and Get with the G0 command list", async () => {
      await port.write(Uint8Array.of(0x7f));
      expect(Array.from(await port.read(1, 1000))).toEqual([0x79]);
      await port.write(Uint8Array.of(0x00, 0xff));
      expect(Array.from(await port.read(15, 1000))).toEqual([
        0x79, 11, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92, 0x79,
      ]);
    });

    it("writes its statistics after each command", async () => {
      await port.write(Uint8Array.of(0x01, 0xfe));
      await port.read(5, 1000);
      // The file is rewritten asynchronously (coalesced writes), so it shows the command shortly after
      // the reply rather than before it.
      const read = (): { commands: Record<string, number>; pid: number } | undefined => {
        try {
          return JSON.parse(readFileSync(join(dir, "stats.json"), "utf8")) as {
            commands: Record<string, number>;
            pid: number;
          };
        } catch {
          return undefined; // not written yet
        }
      };
      await expect.poll(() => read()?.commands["0x01"], { timeout: 2000 }).toBe(1);
      expect(read()?.pid).toBe(0x460);
      expect(read()?.commands).toMatchObject({ "0x00": 1, "0x01": 1 });
    });

    it("resets into a fresh bootloader on SIGUSR2 (a pty has no modem lines to reset through)", async () => {
      // Synchronised, the bootloader takes 0x7F as an opcode and waits for its complement: no answer.
      await port.write(Uint8Array.of(0x7f));
      await expect(port.read(1, 150)).rejects.toMatchObject({ code: "timeout" });
      sim.child.kill("SIGUSR2");
      await new Promise((resolve) => setTimeout(resolve, 200));
      // After the reset the half-received command is gone and 0x7F activates it again.
      await port.write(Uint8Array.of(0x7f));
      expect(Array.from(await port.read(1, 1000))).toEqual([0x79]);
    });

    it("persists flash to its flash file and exits cleanly on SIGTERM", async () => {
      const frame = [0x08, 0x00, 0x00, 0x00, 0x08];
      await port.write(Uint8Array.of(0x31, 0xce));
      expect(Array.from(await port.read(1, 1000))).toEqual([0x79]);
      await port.write(Uint8Array.from(frame));
      expect(Array.from(await port.read(1, 1000))).toEqual([0x79]);
      await port.write(Uint8Array.of(7, 1, 2, 3, 4, 5, 6, 7, 8, 7 ^ 1 ^ 2 ^ 3 ^ 4 ^ 5 ^ 6 ^ 7 ^ 8));
      expect(Array.from(await port.read(1, 1000))).toEqual([0x79]);
      expect(await sim.stop()).toBe(0);
      expect(Array.from(readFileSync(join(dir, "flash.bin")).subarray(0, 8))).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8,
      ]);
    });
  },
);
