/**
 * Fault benchmark, tiny state filesystem (issue 10, defect 2): the daemon's state directory on a
 * tmpfs too small for the journal and the image store (sizes swept page by page, so ENOSPC strikes at
 * a different write each time), one update of the four demo modules. Survived: the modules' flash
 * holds one complete release on every module (all-or-nothing, judged from the flash files), the
 * retained status is final and agrees with the flash, and a bundle that did not land was refused by
 * name (lastRejected) or failed/rolled back with a named error. A daemon that refuses to start on the
 * full filesystem, exiting non-zero, with the modules untouched, survives too (fail closed).
 *
 * Needs root (mount -t tmpfs); otherwise the set says "skipped: not root".
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publishBundle } from "../src/mqtt/operator/operator.js";
import { judgeFlash, killRig, releaseBundle, Watched } from "../test/integration/helpers/kill-rig.js";
import type { KillContext } from "./faults-kill.js";
import { printSet, runSet, type SetResult } from "./fault-sets.js";

const NAME = "tiny state filesystem (tmpfs, ENOSPC)";
/** The state directory's space reserve in this set (config storage.reserveBytes). */
const RESERVE_BYTES = 4096;

function mountTmpfs(kib: number): { dir: string; grow: (kib: number) => void; release: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "subflash-tmpfs-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0700`, "tmpfs", dir]);
  if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr.toString().trim()}`);
  return {
    dir,
    // Space comes back: tmpfs takes a new size on remount, files kept.
    grow: (size) => {
      const grown = spawnSync("mount", ["-o", `remount,size=${size}k`, dir]);
      if (grown.status !== 0) throw new Error(`remount failed: ${grown.stderr.toString().trim()}`);
    },
    release: () => {
      spawnSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function runTinyCase(ctx: KillContext, kib: number): Promise<string | null> {
  const fs = mountTmpfs(kib);
  const rig = killRig(ctx.brokerUrl, (c) => {
    c.stateDir = fs.dir;
    // A space reserve sized to this filesystem (the default 1 MiB never fits: every bundle would be
    // refused up front), so that ENOSPC strikes mid-run, at a different write for each size.
    c.storage = { reserveBytes: RESERVE_BYTES };
  });
  const w = new Watched(rig, ctx.operator);
  await w.watcher.start();
  try {
    if ((await w.start()) === "died") {
      const code = await w.daemon!.exited;
      const flash = judgeFlash(rig, ["1.0.0"]);
      if (code === 0) return "start on a full filesystem exited 0";
      return flash === null ? null : `start refused (exit ${code}) and ${flash}`;
    }
    await publishBundle(ctx.operator, { gateway: rig.gateway }, releaseBundle(rig, 1, "2.0.0"), rig.prefix);
    let outcome = await w
      .settleOrDie(30_000)
      .catch((error: Error) => `frozen: ${error.message.split("\n")[0]}`);
    if (outcome !== "settled" && outcome !== "died") {
      // Halted on a full disk is allowed (docs/reliability.md), if it says so and touched nothing
      // since; then space returns and the gateway must finish by itself, without a restart.
      const halted = w.gw()?.status?.bundle?.error?.code === "storage-unavailable";
      const flash = judgeFlash(rig, ["1.0.0", "2.0.0"]);
      if (!halted || flash !== null) {
        const mods = [...(w.gw()?.modules.values() ?? [])].map((m) => `${m.module}=${m.state}`).join(" ");
        await w.daemon?.kill("SIGKILL");
        return `${outcome}; halted for storage: ${halted}; status ${mods}; flash: ${flash ?? "one release"}`;
      }
      fs.grow(4096);
      outcome = await w
        .settleOrDie(90_000)
        .catch((error: Error) => `still frozen after space returned: ${error.message.split("\n")[0]}`);
    }
    if (outcome !== "settled") {
      const mods = [...(w.gw()?.modules.values() ?? [])].map((m) => `${m.module}=${m.state}`).join(" ");
      await w.daemon?.kill("SIGKILL");
      const flash = judgeFlash(rig, ["1.0.0", "2.0.0"]) ?? "one release";
      return `${outcome === "died" ? "daemon died" : outcome}; status ${mods}; flash: ${flash}`;
    }
    const status = w.statusProblem();
    const gw = w.gw()?.status;
    await w.stop();
    w.daemon = null;
    const flash = judgeFlash(rig, ["1.0.0", "2.0.0"]);
    if (flash) return flash;
    if (status) return status;
    // Not applied: it must say why, by name.
    const landed = gw?.bundle?.state === "committed";
    const named = gw?.lastRejected?.error.code ?? gw?.bundle?.error?.code ?? gw?.lastRun?.error?.code ?? null;
    if (!landed && named === null)
      return `not applied and no named reason (bundle ${gw?.bundle?.state ?? "none"})`;
    return null;
  } finally {
    await w.daemon?.kill("SIGKILL");
    w.watcher.stop();
    rig.close();
    fs.release();
  }
}

/** Sizes from too small for anything to just enough for the whole update (4 × 4 KiB images plus backups). */
export async function tinyFilesystemSet(ctx: KillContext, sizesKiB: readonly number[]): Promise<SetResult> {
  if (process.getuid?.() !== 0) {
    const result: SetResult = { name: NAME, survived: 0, total: 0, failures: [], skipped: "not root" };
    printSet(result);
    return result;
  }
  return runSet(
    NAME,
    sizesKiB,
    (kib) => runTinyCase(ctx, kib),
    (kib) => `state on a ${kib} KiB tmpfs`,
  );
}
