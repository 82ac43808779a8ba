/**
 * The state directory's lock: one daemon per state directory. `stateDir/.lock` is created with
 * O_EXCL and holds the owner's pid; a lock whose pid no longer runs a subflash process (the daemon
 * was killed, the gateway lost power) is stale and taken over. `daemon --check` probes it.
 */
import { constants } from "node:fs";
import { open, readFile, unlink } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayError } from "../errors.js";

export const LOCK_FILE = ".lock";

export interface StateLock {
  readonly path: string;
  release(): Promise<void>;
}

/** The pid that holds the lock of `stateDir` and still runs, or null (no lock, or a stale one). */
export async function lockHolder(stateDir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(join(stateDir, LOCK_FILE), "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && runsSubflash(pid) ? pid : null;
}

/**
 * Takes the lock of `stateDir` (which must exist) for this process. Throws GatewayError
 * "state-locked" when a running process holds it.
 */
export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { path, release: () => release(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    const holder = await lockHolder(stateDir);
    if (holder !== null)
      throw new GatewayError(
        "state-locked",
        `state directory ${stateDir} is in use by process ${holder} (another subflash daemon); ${path} is its lock`,
        { stateDir, pid: holder },
      );
    await unlink(path).catch(() => {}); // stale: its owner is gone
  }
}

async function release(path: string): Promise<void> {
  try {
    if ((await readFile(path, "utf8")).trim() === String(process.pid)) await unlink(path);
  } catch {
    // already gone
  }
}

/** True when `pid` runs and, as far as /proc tells, is a subflash (Node) process, not a reused pid. */
function runsSubflash(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /subflash|node/.test(cmdline);
  } catch {
    return true; // no /proc: trust the pid
  }
}
