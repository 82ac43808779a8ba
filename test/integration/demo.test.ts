import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("subflash demo", () => {
  it("tells the whole story on its own embedded broker and exits 0 when every step passed", () => {
    // Timing off keeps it to a few seconds; `npm run demo` runs the same steps with timing on.
    const run = spawnSync(process.execPath, ["bin/subflash.mjs", "demo", "--no-timing"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/embedded aedes broker at mqtt:\/\/127\.0\.0\.1:\d+/);
    for (const step of ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]) expect(run.stdout).toContain(step);
    expect(run.stdout).toContain("✓ rolled back in reverse order: radio, motor, power");
    expect(run.stdout).toContain("✓ refused as replayed");
    expect(run.stdout).not.toContain("✗");
    expect(run.stdout).toMatch(/demo passed in [\d.]+ s\n$/);
  });
});
