/**
 * What reconciling one module found: the module holds what the gateway recorded, the gateway learned
 * what it holds (no record before), or the two differ, named by a stable code and repaired or not.
 */
import type { InstalledImage } from "../run/types.js";
import type { StatusError } from "../status/types.js";

/** Stable codes of a mismatch between a module and the gateway's records (also GatewayErrorCode). */
export type MismatchCode = "drift" | "half-written" | "unknown-content";

/** How the module's content was checked. */
export type CheckMethod = "crc" | "readback" | "probe" | "none";

export type ModuleFinding =
  | {
      kind: "consistent";
      module: string;
      version: string | null;
      method: CheckMethod;
    }
  | {
      /** The gateway had no record; it now knows what the module runs (and keeps it in state). */
      kind: "learned";
      module: string;
      installed: InstalledImage;
      method: CheckMethod;
    }
  | {
      kind: "mismatch";
      module: string;
      code: MismatchCode;
      message: string;
      /** What the module was found to run, when known (another release, the probe's answer). */
      found: string | null;
      method: CheckMethod;
      repair: { done: true; version: string | null } | { done: false; reason: string };
    }
  | {
      /** The module could not be checked (bootloader unreachable, timeout…): nothing was concluded. */
      kind: "unchecked";
      module: string;
      error: StatusError;
    };

/** One line for logs, notes and events. */
export function describeFinding(finding: ModuleFinding): string {
  switch (finding.kind) {
    case "consistent":
      return `reconciled: holds ${finding.version ?? "the recorded firmware"} (${finding.method})`;
    case "learned":
      return `reconciled: runs ${finding.installed.version ?? "unknown firmware"} (learned by ${finding.method})`;
    case "mismatch":
      return finding.repair.done
        ? `reconciled: ${finding.code}, repaired to ${finding.repair.version ?? "the recorded firmware"}`
        : `reconciled: ${finding.code}, not repaired (${finding.repair.reason})`;
    case "unchecked":
      return `not reconciled: ${finding.error.message}`;
  }
}
