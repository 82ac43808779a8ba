/**
 * Start-up checks on the state directory that must fail closed: the configured `stateDir` must be a
 * directory the gateway can write. A fatal problem is a GatewayError naming the config field and
 * the path, so the daemon's one log line (and its exit status) tells the operator what to fix.
 */
import { stat } from "node:fs/promises";
import { ensureDirectory } from "./atomic-file.js";
import { GatewayError } from "../errors.js";
import { storageErrorCode } from "./storage-errors.js";

export async function openStateDirectory(stateDir: string): Promise<void> {
  const info = await stat(stateDir).catch((error: NodeJS.ErrnoException) =>
    error.code === "ENOENT" ? null : Promise.reject(error),
  );
  if (info && !info.isDirectory())
    throw new GatewayError("state-unusable", `stateDir: ${stateDir} is not a directory`, {
      field: "stateDir",
      path: stateDir,
    });
  try {
    await ensureDirectory(stateDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown";
    throw new GatewayError(
      storageErrorCode(error) ?? "state-unusable",
      `stateDir: cannot create ${stateDir} (${code})`,
      { field: "stateDir", path: stateDir },
      { cause: error },
    );
  }
}
