/**
 * `subflash devices | head -1`: when the reader closes the pipe early, the CLI stops quietly with
 * exit 0, as a shell user expects, instead of dying on an unhandled EPIPE with a stack trace.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN } from "./bench-run.js";

describe("the CLI writing into a pipe whose reader went away", () => {
  it("stops quietly with exit 0 and nothing on stderr", async () => {
    const child = spawn(process.execPath, [BIN, "devices"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Close our end before the CLI has started (that takes 100 ms and more), as `head` does once it
    // has its lines: every write of the CLI then meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
