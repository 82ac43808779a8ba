/**
 * The selector built for each Cortex-M core at -Os (example G071 layout, each core with a family
 * flash driver it is used with); the Cortex-M0+ build must fit 2 KiB of .text + .data.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FIRMWARE_DIR, firmwareTools, make } from "./support.js";

const tools = firmwareTools(["arm-none-eabi-gcc", "arm-none-eabi-size"]);
const suite = tools.available ? "selector ARM builds" : `selector ARM builds (${tools.reason})`;

function size(core: string): { text: number; data: number; bss: number } {
  const out = execFileSync("arm-none-eabi-size", [join(FIRMWARE_DIR, "build", core, "selector.elf")], {
    encoding: "utf8",
  });
  const [text, data, bss] = (out.trim().split("\n")[1] ?? "").trim().split(/\s+/).map(Number);
  return { text: text ?? NaN, data: data ?? NaN, bss: bss ?? NaN };
}

describe.skipIf(!tools.available && !tools.required)(suite, () => {
  beforeAll(() => {
    if (!tools.available) throw new Error(tools.reason);
    make("arm");
  });

  it("fits the Cortex-M0+ selector in 2048 bytes of .text + .data", () => {
    const s = size("cortex-m0plus");
    expect(s.text + s.data).toBeGreaterThan(0);
    expect(s.text + s.data).toBeLessThanOrEqual(2048);
  });

  it.each(["cortex-m3", "cortex-m4", "cortex-m7"])("builds for %s without .data or .bss", (core) => {
    const s = size(core);
    expect(s.text).toBeGreaterThan(0);
    expect(s.data + s.bss).toBe(0);
  });
});
