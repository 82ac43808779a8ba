/**
 * The state directory's space reserve (issue 10, defect 2) on a real tiny tmpfs: the re-creation
 * timer and a bundle's intake may both ask for it at the same moment, on a disk with room for one.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { SpaceReserve } from "../../src/gateway/store/reserve.js";
import { skipTmpfs, Tmpfs, tmpfsUnavailable } from "./tmpfs.js";

const tmpfs = new Tmpfs();
afterEach(() => tmpfs.unmountAll());

describe.skipIf(skipTmpfs)("space reserve (tmpfs)", () => {
  it("writes the reserve once when two callers ask for it together on a disk with room for one, and both succeed", async () => {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    const dir = tmpfs.mount(mkdtempSync(join(tmpdir(), "subflash-reserve-")), 1536);
    const bytes = 1024 * 1024;
    const reserve = new SpaceReserve(dir, bytes, new HaltGate());
    const results = await Promise.allSettled([reserve.ensure(), reserve.ensure()]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(statSync(reserve.path).size).toBe(bytes);
    // No temporary file of a second write is left holding space.
    expect(readdirSync(dir)).toEqual(["reserve.bin"]);
  });
});
