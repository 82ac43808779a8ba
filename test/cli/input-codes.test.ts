/**
 * Issue 10, defect 12 (cosmetic): bench `flash` exited 1, not 2 (bad input), for an image outside the
 * module's flash; `manifest verify` called unparseable input `malformed-envelope` where the daemon
 * says `malformed-bundle`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKey, trustStoreDocument } from "../../src/signing/index.js";
import { ptySupport } from "../../src/targets/transport/pty.js";
import { startSimProcess } from "../sim/module/sim-process.js";
import { subflash } from "./bench-run.js";

const pty = await ptySupport();

describe("bad input gets the bad-input answer", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "subflash-input-codes-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!pty.available && !pty.required)(
    "flash exits 2 for an image that lies outside the module's flash, and erases nothing",
    async () => {
      const sim = await startSimProcess(["--device", "f103", "--no-timing"]);
      try {
        writeFileSync(join(dir, "big.bin"), new Uint8Array(144 * 1024).fill(0x5a));
        const run = await subflash(
          ["flash", "--port", sim.hostPath, "--parity", "none", join(dir, "big.bin")],
          90_000,
        );
        expect(run.stderr).toMatch(/does not fit flash/);
        expect(run.stderr).toMatch(/previous firmware: untouched/);
        expect(run.code).toBe(2);
      } finally {
        await sim.stop();
      }
    },
    120_000,
  );

  it("manifest verify calls bytes that are neither a bundle nor a signed manifest malformed-bundle", async () => {
    const key = createSigningKey({ label: "t" });
    writeFileSync(
      join(dir, "trust.json"),
      JSON.stringify(trustStoreDocument({ threshold: 1, keys: [{ id: key.id, publicKey: key.publicKey }] })),
    );
    writeFileSync(join(dir, "junk.bin"), "certainly not CBOR at all");
    const run = await subflash(
      ["manifest", "verify", join(dir, "junk.bin"), "--trust", join(dir, "trust.json")],
      90_000,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused \(malformed-bundle\)/);
  }, 120_000);
});
