/**
 * Runs `subflash sim` as a child process on one end of a socat pty pair, for tests that talk to the
 * simulator the way an outside tool does (our transport, stm32flash).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createPtyPair, type PtyPair } from "../../../src/targets/transport/pty.js";

const BIN = fileURLToPath(new URL("../../../bin/subflash.mjs", import.meta.url));

export interface SimProcess {
  pty: PtyPair;
  /** The host's end of the line. */
  hostPath: string;
  /** The line the simulator printed when it started. */
  banner: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, wait for the exit, close the pty pair. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startSimProcess(args: string[], timeoutMs = 15_000): Promise<SimProcess> {
  const pty = await createPtyPair();
  const child = spawn(process.execPath, [BIN, "sim", "--tty", pty.a, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`subflash sim did not start within ${timeoutMs} ms: ${stderr}`)),
        timeoutMs,
      );
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        const line = stdout.split("\n").find((l) => l.startsWith("simulating"));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`subflash sim exited with ${code}: ${stderr}`));
      });
    });
    return {
      pty,
      hostPath: pty.b,
      banner,
      child,
      stderr: () => stderr,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const code = await exited;
        await pty.close();
        return code;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await pty.close();
    throw error;
  }
}
