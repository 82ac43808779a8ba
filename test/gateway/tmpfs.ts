/**
 * A tiny tmpfs for a state directory, to make real ENOSPC and EROFS happen: root only (CI runs the
 * suite as root). Suites skip with the reason otherwise, and fail instead when
 * SUBFLASH_REQUIRE_TMPFS=1 (as .ci/run sets it).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const tmpfsUnavailable: string | null =
  process.getuid?.() !== 0
    ? "needs root to mount a tmpfs (set SUBFLASH_REQUIRE_TMPFS=1 to fail instead)"
    : null;
export const tmpfsRequired = process.env.SUBFLASH_REQUIRE_TMPFS === "1";
export const skipTmpfs = tmpfsUnavailable !== null && !tmpfsRequired;

export class Tmpfs {
  readonly #mounted: string[] = [];

  /** Mounts a tmpfs of `sizeKiB` on `dir` (created when missing). */
  mount(dir: string, sizeKiB: number): string {
    if (tmpfsUnavailable) throw new Error(tmpfsUnavailable);
    mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", dir]);
    this.#mounted.push(dir);
    return dir;
  }

  readOnly(dir: string): void {
    execFileSync("mount", ["-o", "remount,ro", dir]);
  }

  writable(dir: string): void {
    execFileSync("mount", ["-o", "remount,rw", dir]);
  }

  /** Fills the file system with `name` until it is full (ENOSPC is what is wanted). */
  fill(dir: string, name = "filler"): string {
    const path = join(dir, name);
    try {
      writeFileSync(path, new Uint8Array(64 * 1024 * 1024));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    }
    return path;
  }

  unmountAll(): void {
    for (const dir of this.#mounted.splice(0)) execFileSync("umount", ["-l", dir]);
  }
}
