/** Reading small JSON/YAML documents (key files, trust stores, release specs) with every problem named by path. */
import { readFile } from "node:fs/promises";
import type { z } from "zod";

/** "keys.0.publicKey: expected 64 hex digits; threshold: Too small…", one line per problem. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** Reads a whole file as UTF-8, or says why it cannot be read. */
export async function readText(path: string): Promise<{ text: string } | { error: string }> {
  try {
    return { text: await readFile(path, "utf8") };
  } catch (error) {
    return { error: describeFsError(error) };
  }
}

/** A file system error in a few words ("no such file", "permission denied"), for messages that already name the path. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return error instanceof Error ? error.message : String(error);
}

/** JSON.parse that reports instead of throwing. */
export function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}
