/**
 * The gateway's logs under journald: a whole demo run (embedded broker, simulated modules, the real
 * engine and MQTT service) logs at trace into a file that JOURNAL_STREAM names, as systemd would set
 * it up. Every line carries the syslog priority of its level, and no JSON line has a key twice.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN } from "../cli/bench-run.js";

/**
 * JSON.parse that refuses an object with the same key twice (JSON.parse keeps the last silently).
 * Returns the keys of the top level, in order.
 */
function parseStrict(text: string): string[] {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i} in ${text.slice(0, 200)}`);
  };
  const ws = (): void => {
    while (/\s/.test(text[i] ?? "")) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): string[] => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const keys: string[] = [];
      ws();
      if (text[i] === "}") return (i++, keys);
      for (;;) {
        ws();
        const key = str();
        if (keys.includes(key)) fail(`duplicate key "${key}"`);
        keys.push(key);
        ws();
        if (text[i++] !== ":") fail("expected :");
        value();
        ws();
        const next = text[i++];
        if (next === "}") return keys;
        if (next !== ",") fail("expected , or }");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return (i++, []);
      for (;;) {
        value();
        ws();
        const next = text[i++];
        if (next === "]") return [];
        if (next !== ",") fail("expected , or ]");
      }
    }
    if (c === '"') return (str(), []);
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail("unexpected token");
    i += m![0].length;
    return [];
  };
  const keys = value();
  ws();
  if (i !== text.length) fail("trailing text");
  return keys;
}

const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };
const dir = mkdtempSync(join(tmpdir(), "subflash-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the gateway's JSON logs under journald", () => {
  it("refuses a duplicate key (the parser the test relies on)", () => {
    expect(parseStrict('{"a":1,"b":{"a":[1,{"c":2}]}}')).toEqual(["a", "b"]);
    expect(() => parseStrict('{"a":1,"b":2,"a":3}')).toThrow(/duplicate key "a"/);
  });

  it("prefixes every line of a demo run with its syslog priority and never repeat a key in a line", async () => {
    const logFile = join(dir, "journal.log");
    const fd = openSync(logFile, "w");
    const st = fstatSync(fd, { bigint: true });
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, "demo", "--no-timing", "--log-level", "trace"], {
        env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
        stdio: ["ignore", "ignore", fd],
      });
      child.once("exit", resolve);
    });
    closeSync(fd);
    expect(code).toBe(0);
    const lines = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(100);
    const problems: string[] = [];
    const levels = new Set<number>();
    let productIds = 0;
    for (const line of lines) {
      const m = /^<(\d)>(\{.*)$/.exec(line);
      if (!m) {
        problems.push(`no priority prefix: ${line.slice(0, 120)}`);
        continue;
      }
      try {
        const keys = parseStrict(m[2]!);
        const entry = JSON.parse(m[2]!) as { level: number; pid: unknown; productId?: unknown };
        levels.add(entry.level);
        if (PRIORITY[entry.level] !== Number(m[1])) problems.push(`level ${entry.level} as <${m[1]}>`);
        if (entry.pid !== process.pid && typeof entry.pid !== "number")
          problems.push(`pid ${String(entry.pid)}`);
        if (keys.includes("productId")) productIds++;
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // The run logs at several levels (trace byte dumps, info steps, a warning for the crashing firmware).
    expect([...levels].sort()).toEqual(expect.arrayContaining([10, 20, 30]));
    expect(productIds).toBeGreaterThan(0);
  });
});
