/**
 * The logger of the long-running commands (`daemon`, `demo --log-level`): pino JSON lines that
 * journald and jq read without surprises.
 *
 * - Under systemd (JOURNAL_STREAM names the very stream the lines go to), each line starts with the
 *   syslog priority `<N>` that journald's stream parser takes off and stores as PRIORITY, so
 *   `journalctl -u subflash -p warning` works: fatal 2, error 3, warn 4, info 6, debug/trace 7.
 * - No JSON line carries a key twice. pino writes every child's bindings as they come, so a layer
 *   that binds `port` under a module that already bound `port` would print it twice; here a binding
 *   (or a logged field) equal to one already bound is left out, and a different one is renamed after
 *   its layer (`linkPort`) or with an `Inner` suffix. `pid` stays pino's process id: an STM32 product
 *   id logged as `pid` is renamed `productId`.
 */
import { fstatSync } from "node:fs";
import { createRequire } from "node:module";
import type { pino as Pino, Logger as PinoLogger } from "pino";
import type { Logger } from "./logger.js";

export interface ServiceLogger extends Logger {
  fatal(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): ServiceLogger;
}

export interface ServiceLoggerOptions {
  level: string;
  /** File descriptor the lines go to: 1 for the daemon (journald reads stdout), 2 for the demo. */
  fd: number;
  /** Paths pino censors ("password", "*.password", …). */
  redact?: string[];
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** syslog priority of a pino level number (10 trace … 60 fatal). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** True when JOURNAL_STREAM ("device:inode") is the stream behind `fd`, i.e. journald reads it. */
export function writesToJournal(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** Keys pino writes itself on every line; a field or binding of that name would appear twice. */
const PINO_KEYS = new Set(["level", "time", "pid", "hostname", "msg"]);
const RENAMED: Record<string, string> = { pid: "productId" };

export function createServiceLogger(options: ServiceLoggerOptions): ServiceLogger {
  // pino is loaded here, not at start-up of every command (see src/cli/main.ts).
  const { pino } = createRequire(import.meta.url)("pino") as { pino: typeof Pino };
  const journal = writesToJournal(options.fd, options.env);
  const base = pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(options.redact ? { redact: { paths: options.redact, censor: "[redacted]" } } : {}),
      ...(journal ? { hooks: { streamWrite: prefixPriority } } : {}),
    },
    // Synchronous writes: nothing is lost when the process exits right after a line.
    pino.destination({ fd: options.fd, sync: true }),
  );
  return wrap(base, new Map());
}

function prefixPriority(line: string): string {
  const level = /^\{"level":(\d+)/.exec(line);
  return level ? `<${syslogPriority(Number(level[1]))}>${line}` : line;
}

/**
 * `fields` without what `bound` already has: equal values are dropped, different ones renamed.
 * Returns the same object when nothing clashes (the common case costs one key scan).
 */
function distinct(
  fields: Record<string, unknown>,
  bound: ReadonlyMap<string, unknown>,
): Record<string, unknown> {
  let clash = false;
  for (const key of Object.keys(fields)) {
    if (bound.has(key) || PINO_KEYS.has(key)) {
      clash = true;
      break;
    }
  }
  if (!clash) return fields;
  const layer = [fields.layer, fields.transport, fields.component].find(
    (v): v is string => typeof v === "string",
  );
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (RENAMED[key] !== undefined) {
      out[RENAMED[key]] = value;
    } else if (PINO_KEYS.has(key)) {
      out[`${key}Field`] = value;
    } else if (!bound.has(key)) {
      out[key] = value;
    } else if (bound.get(key) !== value) {
      const renamed =
        layer && key !== "layer" ? `${layer}${key[0]!.toUpperCase()}${key.slice(1)}` : `${key}Inner`;
      out[bound.has(renamed) ? `${renamed}Inner` : renamed] = value;
    }
  }
  return out;
}

function wrap(logger: PinoLogger, bound: ReadonlyMap<string, unknown>): ServiceLogger {
  const at =
    (level: "trace" | "debug" | "info" | "warn" | "error" | "fatal") =>
    (obj: object, msg?: string): void => {
      if (!logger.isLevelEnabled(level)) return;
      const fields = obj instanceof Error ? { err: obj } : distinct(obj as Record<string, unknown>, bound);
      if (msg === undefined) logger[level](fields);
      else logger[level](fields, msg);
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
    child(bindings) {
      const own = distinct(bindings, bound);
      const next = new Map(bound);
      for (const [key, value] of Object.entries(own)) next.set(key, value);
      return wrap(logger.child(own), next);
    },
  };
}
