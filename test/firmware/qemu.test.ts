/**
 * The C selector on an emulated Cortex-M3 (QEMU mps2-an385), on flash images assembled here with the
 * project's boot-record writer, with two test applications linked for slot A and slot B and a stub at
 * the configured ROM-bootloader address. Each reports over semihosting which image runs; a slot app
 * also reports both trial markers as it finds them (E erased, U used).
 *
 * Path exercised: selector decision (sf_selector.c) + boot shim (sf_boot.c: VTOR, MSP, branch) +
 * the QEMU board shim (board_qemu.c), whose trial-marker write is a direct store into the board's
 * RAM-like SSRAM1 "flash". No STM32 flash driver runs here (those are tested on register models by
 * `make -C firmware test`). QEMU re-loads its images on reset, so a "used" marker is assembled into
 * the image (zeros, exactly what the selector programs) rather than carried over from a previous run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildFlash,
  FIRMWARE_DIR,
  firmwareTools,
  make,
  type BootCase,
  type CaseCopy,
  type Layout,
} from "./support.js";

const tools = firmwareTools();
const QEMU_TIMEOUT_MS = 15_000;

/** Mirrors firmware/test/qemu/subflash_layout.h. */
const layout: Layout = {
  flashBase: 0,
  flashSize: 0x20000,
  records: [0x2000, 0x2800],
  slotA: { address: 0x4000, size: 0xe000 },
  slotB: { address: 0x12000, size: 0xe000 },
  ramStart: 0x20000000,
  ramEnd: 0x20010000,
  sysmem: 0x100000,
};

const copy = (over: Partial<CaseCopy> & Pick<CaseCopy, "sequence" | "active">): CaseCopy => ({
  trial: false,
  fallback: null,
  imageLength: "image",
  imageCrc: "image",
  trialUsed: false,
  damage: null,
  ...over,
});

function runQemu(
  flash: string,
  rom: string,
): Promise<{ output: string; code: number | null; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "qemu-system-arm",
      [
        "-M",
        "mps2-an385",
        "-nographic",
        "-semihosting",
        "-monitor",
        "none",
        "-device",
        `loader,file=${flash},addr=0x0`,
        "-device",
        `loader,file=${rom},addr=0x${layout.sysmem.toString(16)}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // Every run is bounded: a selector that hangs or loops is killed and the test fails.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, QEMU_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ output, code, timedOut });
    });
  });
}

const suite = tools.available
  ? "C selector on QEMU mps2-an385 (Cortex-M3)"
  : `C selector on QEMU (${tools.reason})`;

describe.skipIf(!tools.available && !tools.required)(suite, () => {
  let dir = "";
  let images: { selector: Uint8Array; a: Uint8Array; b: Uint8Array; rom: string };

  beforeAll(() => {
    if (!tools.available) throw new Error(tools.reason);
    make("qemu");
    const q = join(FIRMWARE_DIR, "build/qemu");
    images = {
      selector: readFileSync(join(q, "selector.bin")),
      a: readFileSync(join(q, "app_a.bin")),
      b: readFileSync(join(q, "app_b.bin")),
      rom: join(q, "rom.bin"),
    };
    dir = mkdtempSync(join(tmpdir(), "subflash-qemu-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function boot(name: string, c: Omit<BootCase, "name" | "expect">): Promise<string> {
    const flash = buildFlash(
      { ...c, name, expect: { boots: "a", winner: null, mark: null, trial: false } },
      "vector-table",
      layout,
      {
        a: images.a,
        b: images.b,
      },
    );
    flash.set(images.selector, 0);
    const file = join(dir, `${name}.bin`);
    writeFileSync(file, flash);
    const run = await runQemu(file, images.rom);
    expect(run.timedOut, `QEMU did not exit within ${QEMU_TIMEOUT_MS} ms; output: ${run.output}`).toBe(false);
    expect(run.code).toBe(0);
    return run.output.trim();
  }

  it("trial-boots slot B and programs copy 1's trial marker before the jump", async () => {
    const out = await boot("trial", {
      slots: { a: "app", b: "app" },
      copies: [
        copy({ sequence: 1, active: "a" }),
        copy({ sequence: 2, active: "b", trial: true, fallback: "a" }),
      ],
    });
    expect(out).toBe("slot=B marks=EU");
  });

  it("falls back to slot A after a used trial", async () => {
    const out = await boot("fallback", {
      slots: { a: "app", b: "app" },
      copies: [
        copy({ sequence: 1, active: "a" }),
        copy({ sequence: 2, active: "b", trial: true, fallback: "a", trialUsed: true }),
      ],
    });
    expect(out).toBe("slot=A marks=EU");
  });

  it("boots the active slot of a confirmed record and writes no marker", async () => {
    const out = await boot("confirmed", {
      slots: { a: "app", b: "app" },
      copies: [copy({ sequence: 3, active: "a" }), copy({ sequence: 4, active: "b", fallback: "a" })],
    });
    expect(out).toBe("slot=B marks=EE");
  });

  it("ignores a damaged newer copy and boots what the older copy says", async () => {
    const out = await boot("damaged", {
      slots: { a: "app", b: "app" },
      copies: [copy({ sequence: 3, active: "a" }), copy({ sequence: 4, active: "b", damage: "record-crc" })],
    });
    expect(out).toBe("slot=A marks=EE");
  });

  it("boots the other slot when the active image's CRC does not match", async () => {
    const out = await boot("bad-crc", {
      slots: { a: "app", b: "app" },
      copies: [null, copy({ sequence: 2, active: "b", imageCrc: "wrong" })],
    });
    expect(out).toBe("slot=A marks=EE");
  });

  it("jumps to the ROM bootloader address when no slot is bootable", async () => {
    const out = await boot("no-slot", {
      slots: { a: "erased", b: "bad-vectors" },
      copies: [copy({ sequence: 1, active: "b" }), null],
    });
    expect(out).toBe("bootloader");
  });
});
