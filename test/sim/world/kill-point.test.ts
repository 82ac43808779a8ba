import { describe, expect, it } from "vitest";
import { parseKillPoint } from "../../../src/sim/world/kill-point.js";

describe("parseKillPoint", () => {
  it("reads the receipt point, journal writes and device commands", () => {
    expect(parseKillPoint("bundle-verified")).toEqual({ kind: "bundle-verified" });
    expect(parseKillPoint("journal:17")).toEqual({ kind: "journal", write: 17 });
    expect(parseKillPoint("write:motor:9")).toEqual({
      kind: "command",
      command: "write",
      module: "motor",
      count: 9,
    });
    expect(parseKillPoint("erase:sensor:1")).toMatchObject({ command: "erase", module: "sensor", count: 1 });
  });

  it("refuses anything else, naming the accepted forms", () => {
    for (const bad of ["", "journal", "journal:x", "write:motor", "flash:motor:3", "write::3"])
      expect(() => parseKillPoint(bad), bad).toThrow(
        /expected bundle-verified, journal:<k>, write:<module>:<n>/,
      );
  });
});
