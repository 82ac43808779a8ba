/**
 * Fault benchmark, intake sets (issue 10, defects 5 and 6): the flood (a signed `cancel` answered in
 * < 1 s during a 1,000-bundle flood, bench/intake-flood.ts) and the huge payloads (daemon RSS after
 * 3 × 250 MiB publishes within 50 MiB of idle, bench/intake-memory.ts), each run as its own process
 * against the fault benchmark's broker when it is a Mosquitto (SUBFLASH_TEST_MQTT_URL), and reported
 * as a one-case set with its figures under it.
 */
import { spawn } from "node:child_process";
import { printSet, type SetResult } from "./fault-sets.js";

async function runScript(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  return { code, out };
}

/** The script's figures, indented under its set line. */
function figures(out: string, keep: RegExp): string {
  return out
    .split("\n")
    .filter((l) => keep.test(l))
    .map((l) => `    ${l.trim()}\n`)
    .join("");
}

async function scriptSet(
  name: string,
  script: string,
  env: Record<string, string>,
  keep: RegExp,
): Promise<SetResult> {
  const { code, out } = await runScript(script, env);
  const skipped = /skipped \(([^)]*)\)/.exec(out);
  if (skipped) {
    const result: SetResult = { name, survived: 0, total: 0, failures: [], skipped: skipped[1]! };
    printSet(result);
    return result;
  }
  const pass = /target[^\n]*: PASS/.test(out);
  const result: SetResult = {
    name,
    survived: pass ? 1 : 0,
    total: 1,
    failures: pass
      ? []
      : [code === 0 ? "target missed" : `exit ${code}: ${out.trim().split("\n").slice(-3).join(" | ")}`],
  };
  printSet(result);
  process.stdout.write(figures(out, keep));
  return result;
}

export async function intakeSets(mosquittoUrl: string | null): Promise<SetResult[]> {
  const env: Record<string, string> = mosquittoUrl ? { SUBFLASH_TEST_MQTT_URL: mosquittoUrl } : {};
  return [
    await scriptSet(
      "flood: signed cancel during 1,000 bundles",
      "bench/intake-flood.ts",
      env,
      /cancel (on an idle gateway|during the flood)|bundles shed|target/,
    ),
    await scriptSet(
      "huge payloads: RSS after 3 × 250 MiB",
      "bench/intake-memory.ts",
      env,
      /daemon RSS|oversize|target/,
    ),
  ];
}
