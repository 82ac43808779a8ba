/**
 * Base of every error subflash throws. Each domain (transport, bootloader, flash, image, signing,
 * manifest, config, gateway) has one subclass with its own union of stable string codes; the code is
 * what status messages, exit codes and tests key on, never the message text.
 */
export abstract class SubflashError<Code extends string = string> extends Error {
  /** Which layer raised it, e.g. "transport" or "bootloader". */
  abstract readonly domain: string;

  constructor(
    /** Stable, machine-readable reason (kebab-case). */
    readonly code: Code,
    message: string,
    /** What the error is about: port, module, address, field… Safe to log. */
    readonly context: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${message} [${code}]`, options);
    this.name = new.target.name;
  }

  /** A JSON-friendly summary for status payloads and `--json` output. */
  toJSON(): { domain: string; code: Code; message: string; context: Readonly<Record<string, unknown>> } {
    return { domain: this.domain, code: this.code, message: this.message, context: this.context };
  }
}

export function isSubflashError(value: unknown): value is SubflashError {
  return value instanceof SubflashError;
}

/** Message of anything thrown, for logs and status lines. */
export function describeError(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
