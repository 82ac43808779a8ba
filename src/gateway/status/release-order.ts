/**
 * Whether firmware is older than other firmware, for the `rolled-back` state: by release sequence
 * when both are known (sequences only grow, manifest policy), else by version precedence.
 */
import { compareVersions, isVersion } from "../../manifest/index.js";

export interface ReleaseRef {
  version: string | null;
  sequence: number | null;
}

/** True when `to` is known to be older than `left`; unknown either side counts as older (a rollback). */
export function isOlderRelease(to: ReleaseRef, left: ReleaseRef | null | undefined): boolean {
  if (!left) return true;
  if (to.sequence !== null && left.sequence !== null && to.sequence !== left.sequence)
    return to.sequence < left.sequence;
  if (to.version !== null && left.version !== null && isVersion(to.version) && isVersion(left.version))
    return compareVersions(to.version, left.version) < 0;
  return true;
}
