/**
 * A write the state file system refused (full, over quota, read-only, I/O error), found anywhere in
 * an error's cause chain: a journal checkpoint inside a module job, or one wrapped by a rollback's
 * "rollback-failed". The run treats it as a fault of the gateway's storage, never of the module.
 */
import { GatewayError } from "../errors.js";
import type { StatusError } from "../status/types.js";
import { isStorageError } from "./storage-errors.js";

export interface StorageFault {
  /** ENOSPC, EDQUOT, EROFS, EIO… */
  errno: string;
  /** The file the write was for (an atomic write's temporary name is reported as its target). */
  path: string | null;
}

/** The storage fault behind `error`, or null when it is something else. */
export function storageFaultOf(error: unknown): StorageFault | null {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof GatewayError && e.code === "storage-unavailable") {
      const context = e.context as { errno?: unknown; path?: unknown };
      return {
        errno: typeof context.errno === "string" ? context.errno : "unknown",
        path: typeof context.path === "string" ? context.path : null,
      };
    }
    if (isStorageError(e)) {
      const path = (e as NodeJS.ErrnoException).path;
      return {
        errno: (e as NodeJS.ErrnoException).code!,
        path: typeof path === "string" ? path.replace(/\.tmp-\d+-\d+$/, "") : null,
      };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Whether the file system is full (space can be freed) rather than read-only or failing. */
export function isOutOfSpace(fault: StorageFault): boolean {
  return fault.errno === "ENOSPC" || fault.errno === "EDQUOT";
}

/** The published error of a storage fault: code `storage-unavailable`, naming the errno and the file. */
export function storageStatusError(fault: StorageFault, consequence: string): StatusError {
  const what = fault.errno === "EROFS" ? "is read-only" : isOutOfSpace(fault) ? "is full" : "failed";
  return {
    code: "storage-unavailable",
    message: `the state storage ${what} (${fault.errno} writing ${fault.path ?? "the state directory"}): ${consequence}`,
    context: { errno: fault.errno, path: fault.path },
  };
}

export function storageGatewayError(fault: StorageFault, consequence: string): GatewayError {
  const status = storageStatusError(fault, consequence);
  return new GatewayError("storage-unavailable", status.message, { ...status.context });
}
