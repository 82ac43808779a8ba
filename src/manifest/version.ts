/**
 * Semver-like versions: MAJOR[.MINOR[.PATCH[.BUILD]]] with an optional -prerelease and +metadata,
 * compared as semver 2.0.0 does (missing numeric parts are 0, a prerelease sorts before its
 * release, metadata is ignored).
 */

export const VERSION_PATTERN =
  /^\d{1,9}(?:\.\d{1,9}){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isVersion(text: string): boolean {
  return VERSION_PATTERN.test(text);
}

/** Negative when a < b, zero when equal in precedence, positive when a > b. Both must match VERSION_PATTERN. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 4; i++) {
    const d = (pa.numbers[i] ?? 0) - (pb.numbers[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa.pre.length === 0 || pb.pre.length === 0) return pb.pre.length - pa.pre.length;
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const d = comparePreIdentifier(x, y);
    if (d !== 0) return d;
  }
  return 0;
}

function parse(version: string): { numbers: number[]; pre: string[] } {
  const core = version.split("+", 1)[0]!;
  const dash = core.indexOf("-");
  const main = dash === -1 ? core : core.slice(0, dash);
  const pre = dash === -1 ? [] : core.slice(dash + 1).split(".");
  return { numbers: main.split(".").map(Number), pre };
}

/** Numeric identifiers compare numerically and sort before alphanumeric ones (semver §11). */
function comparePreIdentifier(x: string, y: string): number {
  const nx = /^\d+$/.test(x);
  const ny = /^\d+$/.test(y);
  if (nx && ny) return Number(x) - Number(y);
  if (nx !== ny) return nx ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
