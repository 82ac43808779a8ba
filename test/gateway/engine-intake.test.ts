/**
 * The engine's intake under pressure and on failing storage (issue 10):
 * - defect 6: commands have their own path; a cancel is answered while bundles wait, and the bundle
 *   queue is bounded, shedding the excess with a named refusal (`intake-full`);
 * - defect 9: an intake that fails on a full or read-only state file system is a named refusal
 *   (`storage-unavailable`) on `events` and `lastRejected`, and nothing of it runs later.
 * Before the fix the cancel was answered after every bundle ahead of it, nothing was ever shed, and
 * a storage failure reached only the local log (the promise rejected).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GATEWAY, Rig } from "./harness.js";

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const allTwo = { power: { version: "2.0.0" }, motor: { version: "2.0.0" }, radio: { version: "2.0.0" } };
/** Signed and well formed, so verifying it costs its signature check, but addressed elsewhere. */
const elsewhere = (r: Rig, sequence: number): Uint8Array =>
  r.bundle({
    sequence,
    modules: allTwo,
    tweak: (m) => (m.targets = { gateways: [`not-${GATEWAY}`], groups: [] }),
  });

describe("intake paths", () => {
  it("answers a signed cancel before the bundles queued ahead of it (defect 6)", async () => {
    rig = new Rig();
    const engine = await rig.engine({ maxPendingBundles: 100 });
    const order: string[] = [];
    const bundles = Array.from({ length: 40 }, (_, i) =>
      engine.submitBundle(elsewhere(rig, i + 1)).then(() => order.push(`bundle-${i}`)),
    );
    const cancel = engine.submitCommand(rig.command("cancel")).then((outcome) => {
      order.push("cancel");
      return outcome;
    });
    await Promise.all([...bundles, cancel]);
    expect(await cancel).toMatchObject({ command: "cancel" });
    // Answered on its own path, not after the 40 bundles that came first.
    expect(order.indexOf("cancel")).toBeLessThan(order.length - 1);
    expect(order.indexOf("cancel")).toBeLessThan(order.indexOf("bundle-39"));
  });

  it("sheds bundles beyond its bounded queue, each with an intake-full refusal event (defect 6)", async () => {
    rig = new Rig();
    const engine = await rig.engine({ maxPendingBundles: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => engine.submitBundle(elsewhere(rig, i + 1))),
    );
    const shed = outcomes.filter((o) => !o.ok && o.code === "intake-full");
    expect(shed).toHaveLength(4);
    // The two that fitted were verified and refused for what they are.
    expect(outcomes.filter((o) => !o.ok && o.code !== "intake-full")).toHaveLength(2);
    expect(rig.events.filter((e) => e.type === "rejected" && e.error?.code === "intake-full")).toHaveLength(
      4,
    );
  });
});

/** A tiny tmpfs for the state directory: root only (CI runs the suite as root in a container). */
const tmpfsUnavailable =
  process.getuid?.() !== 0
    ? "needs root to mount a tmpfs (set SUBFLASH_REQUIRE_TMPFS=1 to fail instead)"
    : null;
const tmpfsRequired = process.env.SUBFLASH_REQUIRE_TMPFS === "1";

describe.skipIf(tmpfsUnavailable !== null && !tmpfsRequired)("intake on failing storage (tmpfs)", () => {
  const mounted: string[] = [];
  afterEach(() => {
    for (const dir of mounted.splice(0)) execFileSync("umount", ["-l", dir]);
  });

  const tinyStateDir = (r: Rig, sizeKiB: number): string => {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    mkdirSync(r.stateDir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", r.stateDir]);
    mounted.push(r.stateDir);
    return r.stateDir;
  };

  it("refuses a bundle with storage-unavailable when the state file system is full (defect 9)", async () => {
    rig = new Rig();
    const dir = tinyStateDir(rig, 256);
    const engine = await rig.engine();
    // Fill it, as logs or a runaway download would.
    try {
      writeFileSync(join(dir, "filler"), new Uint8Array(1024 * 1024));
    } catch {
      // ENOSPC: full, as wanted
    }
    const outcome = await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }));
    expect(outcome).toMatchObject({ ok: false, code: "storage-unavailable" });
    expect(engine.gatewayStatus().lastRejected?.error.code).toBe("storage-unavailable");
    expect(rig.events.some((e) => e.type === "rejected" && e.error?.code === "storage-unavailable")).toBe(
      true,
    );
    await engine.idle();
    expect(engine.gatewayStatus().bundle).toBeNull();
    for (const id of ["power", "motor", "radio"] as const) expect(rig.running(id).version).toBe("1.0.0");
  });

  it("refuses a bundle with storage-unavailable when the state file system is read-only (defect 9)", async () => {
    rig = new Rig();
    const dir = tinyStateDir(rig, 4096);
    const engine = await rig.engine();
    execFileSync("mount", ["-o", "remount,ro", dir]);
    const outcome = await engine.submitBundle(rig.bundle({ sequence: 1, modules: allTwo }));
    expect(outcome).toMatchObject({ ok: false, code: "storage-unavailable" });
    expect(engine.gatewayStatus().lastRejected?.error).toMatchObject({
      code: "storage-unavailable",
      context: { errno: "EROFS" },
    });
    await engine.idle();
    // Nothing of it was journalled: a new engine on the same (again writable) storage starts no run.
    execFileSync("mount", ["-o", "remount,rw", dir]);
    const again = await rig.engine();
    await again.idle();
    expect(again.gatewayStatus().bundle).toBeNull();
  });
});
