/**
 * Health checks run after a module starts new (or restored) firmware; a module is reported committed
 * only after its check passed.
 * - `uart-probe`: send bytes to the running application at its baud and expect a reply line matching a
 *   pattern (by default "subflash-app <version> ok"), within a timeout, a few attempts;
 * - `bootloader-only`: reset into the bootloader and check it answers (proves little about the application);
 * - `none`.
 */
import type { StreamTransport } from "../../targets/index.js";
import { describeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { parseByteString } from "../config/byte-string.js";
import type { HealthConfig } from "../config/config.js";
import { delay } from "./watchdog.js";

/** `version`: what the application reported, when the pattern captures it (named group "version"). */
export type HealthResult = { ok: true; detail: string; version?: string } | { ok: false; message: string };

export interface HealthIo {
  /** Opens the application's serial line (probe settings). */
  openApplication(): Promise<StreamTransport>;
  /** Enters the bootloader, identifies the device, and leaves it running its application again. */
  checkBootloader(): Promise<void>;
}

/** Line length at which an unterminated reply is given up on. */
const MAX_LINE = 256;

export async function runHealthCheck(
  health: HealthConfig,
  expectedVersion: string | null,
  io: HealthIo,
  signal: AbortSignal,
  log: Logger,
): Promise<HealthResult> {
  switch (health.kind) {
    case "none":
      return { ok: true, detail: "no health check configured" };
    case "bootloader-only":
      try {
        await io.checkBootloader();
        return { ok: true, detail: "the bootloader answered" };
      } catch (error) {
        return { ok: false, message: `the bootloader did not answer: ${describeError(error)}` };
      }
    case "uart-probe":
      return probe(health, expectedVersion, io, signal, log);
  }
}

/**
 * The probe's regular expression for an expected version. When the version is unknown (firmware the
 * gateway did not install), any version matches and is captured, so the gateway learns it.
 */
export function probePattern(expect: string, version: string | null): RegExp {
  const v = version === null ? "(?<version>\\S+)" : version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(expect.replaceAll("{version}", v));
}

async function probe(
  health: Extract<HealthConfig, { kind: "uart-probe" }>,
  expectedVersion: string | null,
  io: HealthIo,
  signal: AbortSignal,
  log: Logger,
): Promise<HealthResult> {
  const pattern = probePattern(health.expect, expectedVersion);
  const request = parseByteString(health.send);
  await delay(health.bootDelayMs, signal);
  const transport = await io.openApplication();
  const heard: string[] = [];
  try {
    for (let attempt = 1; attempt <= health.attempts; attempt++) {
      signal.throwIfAborted();
      transport.discardInput();
      await transport.write(request);
      const lines = await readLines(transport, health.timeoutMs, pattern, signal);
      heard.push(...lines.heard);
      if (lines.match) {
        const reported = pattern.exec(lines.match)?.groups?.version;
        return {
          ok: true,
          detail: `the application answered "${lines.match}"`,
          ...(reported ? { version: reported } : {}),
        };
      }
      log.debug({ attempt, of: health.attempts, heard: lines.heard }, "health probe: no matching reply");
    }
  } finally {
    await transport.close().catch(() => {});
  }
  const said =
    heard.length > 0 ? `it answered ${heard.map((l) => JSON.stringify(l)).join(", ")}` : "it did not answer";
  return {
    ok: false,
    message: `no reply matching /${pattern.source}/ after ${health.attempts} probe(s) of ${health.timeoutMs} ms; ${said}`,
  };
}

/** Reads reply lines until one matches or the time is up. */
async function readLines(
  transport: StreamTransport,
  timeoutMs: number,
  pattern: RegExp,
  signal: AbortSignal,
): Promise<{ match: string | null; heard: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const heard: string[] = [];
  let line = "";
  while (!signal.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let byte: number;
    try {
      byte = (await transport.read(1, left))[0]!;
    } catch {
      break; // timeout (or the port went away): no more reply in this attempt
    }
    if (byte !== 0x0a && line.length < MAX_LINE) {
      line += String.fromCharCode(byte);
      continue;
    }
    const text = line.replace(/\r$/, "");
    line = "";
    if (text.length === 0) continue;
    if (pattern.test(text)) return { match: text, heard };
    heard.push(text);
  }
  if (line.length > 0) heard.push(line);
  return { match: null, heard };
}
