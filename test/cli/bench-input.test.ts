/**
 * Bad input to the bench commands, through the real binary: missing or busy ports, a module that
 * never answers, parity a pty cannot carry, malformed images and options. Each must fail with a
 * message that names what is wrong, and the right exit code (2 for usage/input, 1 for the device side).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createPtyPair, ptySupport } from "../../src/targets/transport/pty.js";
import { openSerialTransport } from "../../src/targets/transport/usart.js";
import { subflash } from "./bench-run.js";

const pty = await ptySupport();

// The cases touch distinct files and ports, so they run concurrently (each spawns the CLI).
describe.concurrent("bench commands refuse bad input clearly", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "subflash-bench-input-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("asks for --port when none is given", async ({ expect }) => {
    const run = await subflash(["info"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give the module's serial port with --port <tty>/);
  });

  it("exits 2 with commander's message for an option it does not know", async ({ expect }) => {
    const run = await subflash(["flash", "--bogus", "fw.bin"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--bogus'/);
  });

  it("names a port that does not exist", async ({ expect }) => {
    const run = await subflash(["info", "--port", "/dev/subflash-no-such-port"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /subflash info: \/dev\/subflash-no-such-port does not exist \[port-not-found\]/,
    );
  });

  it("refuses a baud rate that is not a number", async ({ expect }) => {
    const run = await subflash(["info", "--port", "/dev/null", "--baud", "fast"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--baud must be a number/);
  });

  it("refuses a malformed Intel HEX file before opening the port, naming the line", async ({ expect }) => {
    writeFileSync(join(dir, "bad.hex"), ":020000040800F2\n:10000000ZZ\n");
    const run = await subflash(["flash", "--port", "/dev/subflash-no-such-port", join(dir, "bad.hex")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.hex.*line 2/);
  });

  it("refuses a truncated ELF file before opening the port", async ({ expect }) => {
    writeFileSync(join(dir, "bad.elf"), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0));
    const run = await subflash(["flash", "--port", "/dev/subflash-no-such-port", join(dir, "bad.elf")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.elf/);
  });

  it("refuses a missing image file", async ({ expect }) => {
    const run = await subflash(["flash", "--port", "/dev/subflash-no-such-port", join(dir, "nope.bin")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot read firmware file .*nope\.bin: no such file/);
  });

  it("asks for --yes before a readout unprotect and for a selector before an erase", async ({ expect }) => {
    expect((await subflash(["unprotect", "--port", "/dev/null", "--readout"])).stderr).toMatch(
      /add --yes to confirm/,
    );
    const erase = await subflash(["erase", "--port", "/dev/null"]);
    expect(erase.code).toBe(2);
    expect(erase.stderr).toMatch(
      /give exactly one of --pages <list>, --sectors <list>, --mass or --bank <1\|2>/,
    );
  });

  describe.skipIf(!pty.available && !pty.required)(
    `on pseudo-terminals${pty.available ? "" : ` (${pty.reason})`}`,
    () => {
      it("reports a module that never answers, saying what to check", async ({ expect }) => {
        const pair = await createPtyPair();
        try {
          const run = await subflash(["info", "--port", pair.a, "--parity", "none"]);
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(
            new RegExp(
              `subflash info: ${pair.a}: no answer from the bootloader to 2 activation bytes .*check the baud rate, that parity is even \\(8E1\\), the TX/RX wiring, and that the module is in its bootloader \\(BOOT0 high at reset\\) \\[no-answer\\]`,
            ),
          );
        } finally {
          await pair.close();
        }
      });

      it("reports the failure as a JSON result line with --json", async ({ expect }) => {
        const pair = await createPtyPair();
        writeFileSync(join(dir, "app.bin"), new Uint8Array(64).fill(1));
        try {
          const run = await subflash([
            "flash",
            "--port",
            pair.a,
            "--parity",
            "none",
            "--json",
            join(dir, "app.bin"),
          ]);
          expect(run.code).toBe(1);
          expect(JSON.parse(run.stdout)).toMatchObject({
            event: "result",
            ok: false,
            previous: "untouched",
            error: { domain: "bootloader", code: "no-answer" },
          });
        } finally {
          await pair.close();
        }
      });

      it("refuses even parity on a pseudo-terminal and says to use --parity none", async ({ expect }) => {
        const pair = await createPtyPair();
        try {
          const run = await subflash(["info", "--port", pair.a]);
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(/refuses even parity .* use --parity none \[bad-settings\]/);
        } finally {
          await pair.close();
        }
      });

      it("reports a port that another process holds", async ({ expect }) => {
        const pair = await createPtyPair();
        const holder = await openSerialTransport(pair.a, { parity: "none" });
        try {
          const run = await subflash(["info", "--port", pair.a, "--parity", "none"]);
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(/is in use by another process or connection .*\[port-busy\]/);
        } finally {
          await holder.close();
          await pair.close();
        }
      });
    },
  );
});
