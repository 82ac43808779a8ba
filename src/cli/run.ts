/**
 * Shared plumbing for command actions: one place that turns thrown errors into a clear message on
 * stderr and a non-zero exit code, so every command fails the same way.
 */
import { isSubflashError } from "../util/errors.js";

/** Exit codes of the CLI. */
export const ExitCode = {
  ok: 0,
  /** The operation failed (device, protocol, verification, rejected manifest…). */
  failed: 1,
  /** Bad usage or input: unknown option value, unreadable file, invalid config. */
  usage: 2,
  /** Flashing failed after erasing: the previous firmware is partly gone, the module needs recovery. */
  needsRecovery: 3,
} as const;

export class UsageError extends Error {}

/** Wraps a commander action: runs it, reports any error as `subflash <cmd>: message`, sets the exit code. */
export function action<A extends unknown[]>(
  name: string,
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? ExitCode.ok;
    } catch (error) {
      process.exitCode = reportError(name, error);
    }
  };
}

/** Prints an error for a human and returns the exit code it deserves. */
export function reportError(name: string, error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`subflash ${name}: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (isSubflashError(error)) {
    process.stderr.write(`subflash ${name}: ${error.message}\n`);
    if (process.env.SUBFLASH_DEBUG) process.stderr.write(`${error.stack ?? ""}\n`);
    return ExitCode.failed;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`subflash ${name}: ${message}\n`);
  if (process.env.SUBFLASH_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ""}\n`);
  return ExitCode.failed;
}

/** Parses a number given as decimal or 0x-hex, for addresses, PIDs and sizes. */
export function parseNumber(value: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? Number.parseInt(value, 16)
    : /^\d+$/.test(value)
      ? Number(value)
      : NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(`${what} must be a number (decimal or 0x-hex), got "${value}"`);
  return n;
}
