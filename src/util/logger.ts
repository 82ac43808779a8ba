/**
 * The logging seam of the library layers: the subset of pino's API they use (object first, then
 * message). The daemon and the CLI pass pino loggers; tests and library callers may pass nothing.
 */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** pino's level check; byte dumps are formatted only when trace is on. */
  isLevelEnabled?(level: string): boolean;
}

const noop = (): void => {};

/** A logger that drops everything. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/** Hex dump for trace logs: "79 1f 00". */
export function hex(bytes: Uint8Array, max = 64): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > max ? `${shown} …(+${bytes.length - max})` : shown;
}

/** 0x08000000-style address formatting for messages. */
export function addr(value: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(8, "0")}`;
}
