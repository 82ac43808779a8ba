import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/gateway/config/config.js";
import { nextJobs, planBundle } from "../../src/gateway/plan/planner.js";
import type { JobRecord } from "../../src/gateway/run/types.js";
import type { ModuleRecord } from "../../src/gateway/store/state-store.js";
import { describeImage, type Manifest, type ModuleEntry } from "../../src/manifest/index.js";
import { sha256, toHex } from "../../src/signing/index.js";

const image = Uint8Array.from({ length: 1024 }, (_, i) => i & 0x7f);

const g071 = (id: string, path: string, type = "motor") => ({
  id,
  type,
  device: "g071",
  transport: { usart: { path } },
  entry: { method: "app-command", send: "!boot\\n" },
  layout: {
    kind: "ab",
    slotA: { address: 0x08004000, size: 0xe000 },
    slotB: { address: 0x08012000, size: 0xe000 },
    bootRecord: { copies: [0x08002000, 0x08002800] },
  },
});

const config = parseConfig(
  {
    gateway: { id: "gw" },
    trustStore: "t",
    stateDir: "s",
    modules: [
      g071("m1", "/dev/ttyS1"),
      g071("m2", "/dev/ttyS1"),
      g071("m3", "/dev/ttyS2"),
      g071("s1", "/dev/ttyS3", "sensor"),
    ],
  },
  { checkFiles: false },
);

function entry(over: Partial<ModuleEntry> = {}): ModuleEntry {
  return {
    version: "2.0.0",
    securityVersion: 0,
    slots: {
      a: describeImage(image, { address: 0x08004000, source: { inline: 0 } }),
      b: describeImage(image, { address: 0x08012000, source: { inline: 0 } }),
    },
    order: 0,
    dependsOn: [],
    device: { pid: 0x460 },
    ...over,
  };
}

function manifest(modules: Record<string, ModuleEntry>): Manifest {
  return {
    formatVersion: 1,
    sequence: 1,
    issuedAt: 0,
    expires: 1,
    targets: { gateways: ["gw"], groups: [] },
    release: "r1",
    policy: { atomicity: "all-or-nothing", parallelism: 4 },
    modules,
  };
}

const nothing = (): ModuleRecord => ({ confirmed: null, previous: null });

describe("planner", () => {
  it("plans one job per configured module of each type, by stage, on its bus", () => {
    const plan = planBundle(
      manifest({ motor: entry({ order: 1 }), sensor: entry({ order: 0 }) }),
      config.modules,
      nothing,
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.jobs.map((j) => [j.module, j.bus, j.dependsOn])).toEqual([
      ["s1", "usart:/dev/ttyS3", []],
      ["m1", "usart:/dev/ttyS1", ["s1"]],
      ["m2", "usart:/dev/ttyS1", ["s1"]],
      ["m3", "usart:/dev/ttyS2", ["s1"]],
    ]);
    expect(plan.jobs[1]!.target.images.a).toEqual({
      digest: toHex(sha256(image)),
      length: 1024,
      crc: plan.jobs[1]!.target.images.a!.crc,
      address: 0x08004000,
    });
  });

  it("skips modules that already run the release", () => {
    const installed = (id: string): ModuleRecord =>
      id === "m2"
        ? {
            confirmed: {
              version: "2.0.0",
              securityVersion: 0,
              slot: "b",
              address: 0x08012000,
              length: 1024,
              crc: 1,
              digest: toHex(sha256(image)),
              release: "r1",
              sequence: 1,
            },
            previous: null,
          }
        : nothing();
    const plan = planBundle(manifest({ motor: entry() }), config.modules, installed);
    expect(plan.ok && plan.upToDate).toEqual(["m2"]);
    expect(plan.ok && plan.jobs.map((j) => j.module)).toEqual(["m1", "m3"]);
  });

  it("refuses a release for another part, or for no module of this gateway", () => {
    expect(
      planBundle(manifest({ motor: entry({ device: { pid: 0x410 } }) }), config.modules, nothing),
    ).toMatchObject({ ok: false, code: "wrong-device" });
    expect(planBundle(manifest({ lamp: entry() }), config.modules, nothing)).toMatchObject({
      ok: false,
      code: "not-applicable",
    });
  });

  it("schedules one module per bus, buses in parallel, within the limit and after dependencies", () => {
    const plan = planBundle(
      manifest({ motor: entry({ order: 1 }), sensor: entry({ order: 0 }) }),
      config.modules,
      nothing,
    );
    if (!plan.ok) throw new Error("plan failed");
    const jobs = plan.jobs;
    const ids = (picked: JobRecord[]): string[] => picked.map((j) => j.module);
    // Stage 0 first: only the sensor may start.
    expect(ids(nextJobs(jobs, new Set(), 4))).toEqual(["s1"]);
    jobs[0]!.step = "committed";
    // m1 and m2 share /dev/ttyS1: one of them; m3 is on its own bus.
    expect(ids(nextJobs(jobs, new Set(), 4))).toEqual(["m1", "m3"]);
    expect(ids(nextJobs(jobs, new Set(), 1))).toEqual(["m1"]);
    jobs[1]!.step = "writing";
    expect(ids(nextJobs(jobs, new Set(["m1"]), 4))).toEqual(["m3"]);
    jobs[1]!.step = "committed";
    expect(ids(nextJobs(jobs, new Set(["m3"]), 4))).toEqual(["m2"]);
  });
});
