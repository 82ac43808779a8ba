/**
 * One table of boot-record cases (test/fixtures/boot-record-cases.json), two selectors: the
 * TypeScript simulator's (src/testing.ts) and the C reference selector (firmware/selector) compiled
 * for the host. Both must reach the table's decision for every case.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDevice } from "../../src/index.js";
import { createModuleFirmware } from "../../src/testing.js";
import { buildFlash, FIRMWARE_DIR, make, type BootCase, type Layout } from "./support.js";

const table = JSON.parse(
  readFileSync(new URL("../fixtures/boot-record-cases.json", import.meta.url), "utf8"),
) as { layout: Layout; cases: BootCase[] };
const { layout, cases } = table;
const hex = (n: number): string => `0x${n.toString(16)}`;

/** Which copy's trial marker changed between two flash images. */
function markedCopy(before: Uint8Array, after: Uint8Array): 0 | 1 | null {
  for (const index of [0, 1] as const) {
    const at = layout.records[index] - layout.flashBase + 32;
    for (let i = at; i < at + 32; i++) if (before[i] !== after[i]) return index;
  }
  return null;
}

describe("boot-record conformance table", () => {
  it("has at least 12 cases with distinct names", () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
});

describe("TypeScript simulator selector", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const flash = buildFlash(c, "sim", layout);
    const before = flash.slice();
    let enteredBootloader = false;
    const firmware = createModuleFirmware({
      layout: {
        kind: "ab",
        slotA: layout.slotA,
        slotB: layout.slotB,
        bootRecord: [layout.records[0], layout.records[1]],
      },
      // Flash programming clears bits only, as on the part.
      program: (address, bytes) =>
        bytes.forEach((b, i) => {
          const at = address - layout.flashBase + i;
          flash[at] = flash[at]! & b;
        }),
    });
    firmware.app({
      flash: {
        read: (address, length) =>
          flash.slice(address - layout.flashBase, address - layout.flashBase + length),
      },
      device: resolveDevice("g071"),
      bootReason: "reset",
      enterBootloader: () => {
        enteredBootloader = true;
      },
    });
    const boot = firmware.boots.at(-1);
    const boots = enteredBootloader ? "bootloader" : boot?.slot;
    expect({
      boots,
      mark: markedCopy(before, flash),
      trial: enteredBootloader ? false : boot?.trial,
    }).toEqual({
      boots: c.expect.boots,
      mark: c.expect.mark,
      trial: c.expect.trial,
    });
    if (!enteredBootloader) expect(boot?.outcome).toBe("running");
  });

  it("trial-boots once, then falls back on the next start (marker programmed by the model)", () => {
    const trial = cases.find((c) => c.expect.trial && c.expect.boots === "b");
    if (!trial) throw new Error("the table has no trial case booting slot B");
    const flash = buildFlash(trial, "sim", layout);
    const firmware = createModuleFirmware({
      layout: {
        kind: "ab",
        slotA: layout.slotA,
        slotB: layout.slotB,
        bootRecord: [layout.records[0], layout.records[1]],
      },
      program: (address, bytes) =>
        bytes.forEach((b, i) => {
          const at = address - layout.flashBase + i;
          flash[at] = flash[at]! & b;
        }),
    });
    const ctx = {
      flash: {
        read: (address: number, length: number) =>
          flash.slice(address - layout.flashBase, address - layout.flashBase + length),
      },
      device: resolveDevice("g071"),
      bootReason: "reset" as const,
      enterBootloader: () => undefined,
    };
    firmware.app(ctx);
    firmware.app(ctx);
    expect(firmware.boots.map((b) => [b.slot, b.trial])).toEqual([
      ["b", true],
      ["a", false],
    ]);
  });
});

interface CDecision {
  boot: string;
  target: number;
  winner: number | null;
  mark: number | null;
  trial: boolean;
}

/** Runs the host build of the C selector on a flash image file. */
function decideC(file: string): CDecision {
  const out = execFileSync(
    join(FIRMWARE_DIR, "build/host/sf_decide_cli"),
    [
      file,
      `base=${hex(layout.flashBase)}`,
      `rec0=${hex(layout.records[0])}`,
      `rec1=${hex(layout.records[1])}`,
      `a=${hex(layout.slotA.address)}:${hex(layout.slotA.size)}`,
      `b=${hex(layout.slotB.address)}:${hex(layout.slotB.size)}`,
      `ram=${hex(layout.ramStart)}:${hex(layout.ramEnd)}`,
      `sysmem=${hex(layout.sysmem)}`,
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out) as CDecision;
}

describe("C reference selector (host build)", () => {
  let dir = "";
  beforeAll(() => {
    make("host");
    dir = mkdtempSync(join(tmpdir(), "subflash-conformance-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases.map((c, i) => [c.name, c, i] as const))("%s", (_name, c, i) => {
    const file = join(dir, `case-${i}.bin`);
    writeFileSync(file, buildFlash(c, "vector-table", layout));
    const decision = decideC(file);
    const target =
      c.expect.boots === "bootloader"
        ? layout.sysmem
        : c.expect.boots === "a"
          ? layout.slotA.address
          : layout.slotB.address;
    expect({
      boots: decision.boot,
      winner: decision.winner,
      mark: decision.mark,
      trial: decision.trial,
      target: decision.target,
    }).toEqual({ ...c.expect, target });
  });

  it("trial-boots once, then (marker programmed as decided) falls back on the next reset", () => {
    const trial = cases.find((c) => c.expect.trial && c.expect.boots === "b");
    if (!trial) throw new Error("the table has no trial case booting slot B");
    const flash = buildFlash(trial, "vector-table", layout);
    const file = join(dir, "sequence.bin");
    writeFileSync(file, flash);
    const first = decideC(file);
    expect(first).toMatchObject({ boot: "b", trial: true });
    if (first.mark === null) throw new Error("no marker to program");
    // What the boot shim does before the jump: 32 zero bytes at the winning copy's marker.
    flash.fill(
      0,
      layout.records[first.mark]! - layout.flashBase + 32,
      layout.records[first.mark]! - layout.flashBase + 64,
    );
    writeFileSync(file, flash);
    expect(decideC(file)).toMatchObject({ boot: "a", trial: false, mark: null });
  });
});
