import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { stringUnion } from "../api/type-members.js";

/** The codes in the first column of docs/mqtt-api.md's "Error codes" table. */
function documentedCodes(): string[] {
  const doc = readFileSync(new URL("../../docs/mqtt-api.md", import.meta.url), "utf8");
  const section = doc.split("\n## Error codes\n")[1]?.split("\n## ")[0] ?? "";
  return [...section.matchAll(/^\| `([a-z0-9-]+)` +\|/gm)].map((m) => m[1]!).sort();
}

describe("published error codes", () => {
  it("are exactly the codes docs/mqtt-api.md lists, no more and no fewer", () => {
    const published = stringUnion("src/gateway/status/types.ts", "StatusErrorCode");
    const documented = documentedCodes();
    expect(documented.length).toBeGreaterThan(50);
    expect(published.filter((c) => !documented.includes(c))).toEqual([]);
    expect(documented.filter((c) => !published.includes(c))).toEqual([]);
  }, 60_000);
});
