import { describe, expect, it } from "vitest";
import { findDependencyProblem, updateStages } from "../../src/manifest/dependencies.js";
import type { Manifest, ModuleEntry } from "../../src/manifest/types.js";
import { compareVersions, isVersion } from "../../src/manifest/version.js";
import { sampleRelease } from "./fixtures.js";

describe("compareVersions", () => {
  const ascending = [
    "0.9.9",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2",
    "1.10.0",
    "2",
  ];
  it("orders versions as semver does (prerelease before release, numeric identifiers numerically)", () => {
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(
        compareVersions(ascending[i]!, ascending[i + 1]!),
        `${ascending[i]} < ${ascending[i + 1]}`,
      ).toBeLessThan(0);
      expect(compareVersions(ascending[i + 1]!, ascending[i]!)).toBeGreaterThan(0);
    }
  });

  it("treats missing parts as zero and ignores build metadata", () => {
    expect(compareVersions("1.2", "1.2.0")).toBe(0);
    expect(compareVersions("1.2.0+build.7", "1.2.0+build.9")).toBe(0);
  });

  it("recognises semver-like text only", () => {
    expect(["1", "1.2.3", "1.2.3.4", "2.0.0-rc.1+sha.5114f85"].every(isVersion)).toBe(true);
    expect(["", "v1.2", "1..2", "1.2.3.4.5", "1.2-", "latest"].some(isVersion)).toBe(false);
  });
});

describe("dependencies", () => {
  const entry = (order: number, deps: string[] = []): ModuleEntry => ({
    ...sampleRelease().manifest.modules.power!,
    order,
    dependsOn: deps.map((moduleType) => ({ moduleType, minVersion: "1.0.0" })),
  });
  const manifest = (modules: Record<string, ModuleEntry>): Manifest => ({
    ...sampleRelease().manifest,
    modules,
  });

  it("groups module types into stages by order", () => {
    expect(
      updateStages(manifest({ c: entry(2, ["a"]), b: entry(0), a: entry(0), d: entry(5, ["c"]) })),
    ).toEqual([["a", "b"], ["c"], ["d"]]);
  });

  it("finds a self-dependency and longer cycles, and names the path", () => {
    expect(findDependencyProblem(manifest({ a: entry(0, ["a"]) }))).toMatchObject({
      code: "dependency-cycle",
      detail: { cycle: ["a", "a"] },
    });
    expect(
      findDependencyProblem(manifest({ a: entry(0, ["b"]), b: entry(1, ["c"]), c: entry(2, ["a"]) })),
    ).toMatchObject({
      code: "dependency-cycle",
      detail: { cycle: ["a", "b", "c", "a"] },
    });
  });

  it("checks dependencies outside the bundle only when the installed versions are given", () => {
    const m = manifest({ a: entry(0, ["elsewhere"]) });
    expect(findDependencyProblem(m)).toBeUndefined();
    expect(findDependencyProblem(m, {})).toMatchObject({ code: "dependency-unsatisfied" });
    expect(findDependencyProblem(m, { elsewhere: "1.0.0" })).toBeUndefined();
    expect(findDependencyProblem(m, { elsewhere: "garbage" })).toMatchObject({
      code: "dependency-unsatisfied",
    });
  });
});
