import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deviceSummaries, renderDevicesMarkdown } from "../../../src/targets/stm32/device-summary.js";
import { DEVICES } from "../../../src/targets/stm32/devices.js";

describe("docs/devices.md", () => {
  it("is what scripts/gen-devices-doc.ts renders from the table (run it after changing a row)", () => {
    const onDisk = readFileSync(new URL("../../../docs/devices.md", import.meta.url), "utf8");
    expect(onDisk).toBe(renderDevicesMarkdown());
  });

  it("lists every product ID of the table, each with its AN2606 and reference-manual sources", () => {
    const rows = deviceSummaries();
    expect(rows.map((r) => r.pid)).toHaveLength(DEVICES.length);
    for (const r of rows) {
      expect(r.sources.an2606, r.pid).toMatch(/^AN2606 /);
      expect(r.sources.rm, r.pid).toMatch(/RM\d{4}/);
    }
  });

  it("covers the lines issue 14 found missing", () => {
    const pids = new Set(DEVICES.map((d) => d.pid));
    for (const pid of [0x439, 0x459, 0x489, 0x44c, 0x493, 0x44d, 0x478, 0x485, 0x454, 0x476, 0x492, 0x4b0])
      expect(pids.has(pid), `0x${pid.toString(16)}`).toBe(true);
  });
});
