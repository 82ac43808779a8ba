/**
 * Pseudo-terminal pairs for tests, benches and `subflash sim`: socat joins two ptys, so that whatever
 * is written to one end can be read from the other, like a null-modem cable.
 *
 *   socat -d -d pty,raw,echo=0,link=<dir>/a pty,raw,echo=0,link=<dir>/b
 *
 * The pair is ready when socat logs "starting data transfer loop" (both ptys exist by then). Ptys carry
 * no parity and have no modem lines: open both ends with parity "none" (see usart.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransportError } from "./errors.js";

export interface PtyPair {
  /** Stable path of one end (a symlink in a private temporary directory). */
  readonly a: string;
  /** Stable path of the other end. */
  readonly b: string;
  /** The pty devices behind a and b, e.g. ["/dev/pts/3", "/dev/pts/4"]. */
  readonly devices: readonly [string, string];
  /** Stops socat (both ends disappear: open transports see "disconnected") and removes the directory. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** How long to wait for socat to set the pair up. Default 5000 ms. */
  timeoutMs?: number;
}

/** The environment variable that turns a missing socat from "skip" into "fail" in test suites. */
export const REQUIRE_PTY_ENV = "SUBFLASH_REQUIRE_PTY";

let socatCheck: Promise<boolean> | undefined;

/** True when `socat` can be run (checked once per process). */
export function socatAvailable(): Promise<boolean> {
  socatCheck ??= new Promise<boolean>((resolve) => {
    const child = spawn("socat", ["-V"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
  return socatCheck;
}

/**
 * What a pty test suite should do: run, skip (socat missing, with the reason to print), or run and
 * fail (socat missing while SUBFLASH_REQUIRE_PTY=1: createPtyPair() then rejects with the reason).
 */
export async function ptySupport(): Promise<{ available: boolean; required: boolean; reason: string }> {
  const available = await socatAvailable();
  const required = process.env[REQUIRE_PTY_ENV] === "1";
  const reason = available
    ? "socat is available"
    : `socat is not installed (needed for pseudo-terminal tests; ${REQUIRE_PTY_ENV}=${required ? "1" : "unset"})`;
  return { available, required, reason };
}

/** Starts socat and resolves once both ends exist. Rejects with TransportError "open-failed" otherwise. */
export async function createPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const dir = await mkdtemp(join(tmpdir(), "subflash-pty-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  const child = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let devices: [string, string];
  try {
    devices = await waitUntilReady(child, timeoutMs);
    await Promise.all([access(a), access(b)]);
  } catch (error) {
    await stop(child, exited);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    a,
    b,
    devices,
    close: () =>
      (closing ??= (async () => {
        await stop(child, exited);
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

function waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<[string, string]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    let log = "";
    const fail = (message: string, cause?: unknown): void => {
      cleanup();
      reject(
        new TransportError(
          "open-failed",
          message,
          { tool: "socat", stderr: log.trim() },
          cause ? { cause } : undefined,
        ),
      );
    };
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      for (const match of log.matchAll(/PTY is (\S+)/g))
        if (!names.includes(match[1]!)) names.push(match[1]!);
      if (/starting data transfer loop/.test(log) && names.length >= 2) {
        cleanup();
        resolve([names[0]!, names[1]!]);
      }
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      fail(
        err.code === "ENOENT"
          ? "socat is not installed (needed for pseudo-terminal pairs)"
          : `cannot start socat: ${err.message}`,
        err,
      );
    const onExit = (code: number | null): void =>
      fail(`socat exited (code ${code}) before the pty pair was ready: ${log.trim()}`);
    const timer = setTimeout(
      () => fail(`socat did not set up the pty pair within ${timeoutMs} ms: ${log.trim()}`),
      timeoutMs,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.off("error", onError);
      child.off("exit", onExit);
      // Keep draining stderr so socat never blocks on a full pipe.
      child.stderr?.resume();
    };
    child.stderr?.on("data", onData);
    child.once("error", onError);
    child.once("exit", onExit);
  });
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
  await exited;
  clearTimeout(timer);
}
