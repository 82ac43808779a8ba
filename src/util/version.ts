/**
 * The installed package's version (package.json sits three folders above this file, in src/ and in
 * dist/ alike), for Home Assistant's device info and the metrics' build info.
 */
import { readFileSync } from "node:fs";

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const url = new URL("../../package.json", import.meta.url);
    const parsed = JSON.parse(readFileSync(url, "utf8")) as { version?: unknown };
    cached = typeof parsed.version === "string" ? parsed.version : "unknown";
  } catch {
    cached = "unknown";
  }
  return cached;
}
