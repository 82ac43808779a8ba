/**
 * Crash-safe file replacement: write a temporary file, fsync it, rename it over the target, fsync
 * the directory. After a crash at any point the target holds either the old or the new content,
 * never a mix (POSIX rename is atomic; the directory fsync makes the rename itself durable).
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let sequence = 0;

/**
 * Replaces `path` with `data`. `commit`, when given, is awaited just before the rename (the commit
 * point): a halted engine never lets it resolve, so a write in flight at a simulated kill leaves the
 * old content, as a real kill before the rename would.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  commit?: () => Promise<void>,
): Promise<void> {
  // A name of its own per write: two writers (or one killed mid-write) never share a temporary file.
  const tmp = `${path}.tmp-${process.pid}-${++sequence}`;
  const file = await open(tmp, "w", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    // A write on the descriptor fails without a path: name the file it was for.
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno.code === "string" && errno.path === undefined) errno.path = path;
    await file.close();
    // A full disk: what was written of the temporary file would keep the space taken.
    await rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
  await file.close();
  await commit?.();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

/** Removes temporary files a killed writer left next to `path`. */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    if (name.startsWith(prefix)) await rm(join(dirname(path), name), { force: true });
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a JSON file written by writeFileAtomic; undefined when it does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function ensureDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
