/**
 * The CLI loads only what the command being run needs: the command table names every command with
 * the summary its file registers, the bench commands never load MQTT, the broker, zod or the
 * gateway, and `--version` loads no command at all.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands/index.js";
import { BIN } from "./bench-run.js";

const TRACE = resolve(import.meta.dirname, "fixtures/trace-loads.mjs");
const dir = mkdtempSync(join(tmpdir(), "subflash-loads-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs subflash with the given arguments and returns the URLs of every ES module it resolved. */
function loadsOf(args: string[]): Promise<{ code: number; stdout: string; urls: string[] }> {
  const file = join(dir, `${args.join("_").replace(/[^a-z0-9_-]/gi, "")}.txt`);
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", TRACE, BIN, ...args],
      { env: { ...process.env, SUBFLASH_TRACE_LOADS: file } },
      (error, stdout) => {
        let urls: string[] = [];
        try {
          urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
        } catch {
          // nothing resolved
        }
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, urls });
      },
    );
  });
}

const HEAVY = [/node_modules\/mqtt\//, /node_modules\/aedes\//, /node_modules\/zod\//, /\/src\/gateway\//];

describe("the command table", () => {
  it.each(COMMANDS.map((c) => [c.names.join(", "), c] as const))(
    "names exactly the commands %s that its file registers, with their descriptions",
    async (_names, entry) => {
      const probe = new Command();
      (await entry.load()).register(probe);
      expect(probe.commands.map((c) => c.name())).toEqual(entry.names);
      expect(probe.commands.map((c) => c.description())).toEqual(entry.summaries);
    },
  );
});

describe("what a command loads", () => {
  it.each(["info", "flash", "read", "erase", "unprotect", "scan", "sim"])(
    "`subflash %s --help` loads no MQTT client, broker, zod or gateway module",
    async (name) => {
      const run = await loadsOf([name, "--help"]);
      expect(run.code).toBe(0);
      expect(run.urls.some((u) => u.includes(`/cli/commands/${name}.`))).toBe(true);
      expect(run.urls.filter((u) => HEAVY.some((h) => h.test(u)))).toEqual([]);
    },
  );

  it("`subflash --version` prints the package's version and loads no command and no commander", async () => {
    const run = await loadsOf(["--version"]);
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as {
      version: string;
    };
    expect(run.stdout).toBe(`${pkg.version}\n`);
    expect(run.urls.filter((u) => /\/cli\/commands\/|node_modules\/commander\//.test(u))).toEqual([]);
  });

  it("`subflash --help` lists every command without loading any command file", async () => {
    const run = await loadsOf(["--help"]);
    for (const name of COMMANDS.flatMap((c) => c.names))
      expect(run.stdout).toMatch(new RegExp(`\\n  ${name} `));
    expect(run.urls.filter((u) => /\/cli\/commands\/(?!index\.)/.test(u))).toEqual([]);
  });
});
