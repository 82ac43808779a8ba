import { access, readlink } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createPtyPair, ptySupport, socatAvailable } from "../../../src/targets/transport/pty.js";

const pty = await ptySupport();
const suite = pty.available ? "createPtyPair" : `createPtyPair (${pty.reason})`;

describe("ptySupport", () => {
  it("reports availability, whether the pty suites are required, and a reason", async () => {
    expect(pty.available).toBe(await socatAvailable());
    expect(pty.required).toBe(process.env.SUBFLASH_REQUIRE_PTY === "1");
    expect(pty.reason).toMatch(/socat/);
  });
});

describe.skipIf(!pty.available && !pty.required)(suite, () => {
  it("creates two linked pty ends that exist until close, then removes them", async () => {
    const pair = await createPtyPair();
    await access(pair.a);
    await access(pair.b);
    expect(await readlink(pair.a)).toBe(pair.devices[0]);
    expect(await readlink(pair.b)).toBe(pair.devices[1]);
    expect(pair.devices[0]).toMatch(/^\/dev\/pts\/\d+$/);
    await pair.close();
    await expect(access(pair.a)).rejects.toThrow();
    await pair.close(); // idempotent
  });

  it("gives every pair its own paths", async () => {
    const [p, q] = await Promise.all([createPtyPair(), createPtyPair()]);
    try {
      expect(new Set([p.a, p.b, q.a, q.b]).size).toBe(4);
    } finally {
      await Promise.all([p.close(), q.close()]);
    }
  });
});
