/**
 * Which file system errors mean "the state storage cannot take writes now" (full, read-only, quota,
 * I/O error) as opposed to a bug. They become the named refusal and status code
 * `storage-unavailable`, never a local log line only.
 */
const STORAGE_ERRNOS = new Set(["ENOSPC", "EROFS", "EDQUOT", "EIO", "EACCES", "EPERM"]);

export function isStorageError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && STORAGE_ERRNOS.has(code);
}

export function storageErrorCode(error: unknown): "storage-unavailable" | null {
  return isStorageError(error) ? "storage-unavailable" : null;
}

/** The errno of a storage error (ENOSPC…), for messages. */
export function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? "unknown";
}
