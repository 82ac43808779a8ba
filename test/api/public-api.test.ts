import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exportReport } from "./type-members.js";

const REPORT = new URL("./public-api.txt", import.meta.url);

/**
 * The public API report: every name `subflash` and `subflash/testing` export, with its kind. A change
 * to either surface fails here until the report is regenerated (`SUBFLASH_UPDATE_API=1 npx vitest run
 * test/api`) and the diff of public-api.txt is reviewed with the change.
 */
describe("the public API", () => {
  it("is exactly what test/api/public-api.txt records", () => {
    const report = [
      "# subflash (src/index.ts)",
      ...exportReport("src/index.ts"),
      "",
      "# subflash/testing (src/testing.ts)",
      ...exportReport("src/testing.ts"),
      "",
    ].join("\n");
    if (process.env.SUBFLASH_UPDATE_API === "1") writeFileSync(REPORT, report);
    expect(report).toBe(readFileSync(REPORT, "utf8"));
  }, 120_000);
});
