/**
 * The fault benchmark's report: one `survived N/M` line per set, the first failures under it, and
 * the grand total. Shared by the in-process sets (faults.ts) and the process sets (faults-kill.ts,
 * faults-tmpfs.ts, the flood and memory cases).
 */
export interface SetResult {
  name: string;
  survived: number;
  total: number;
  failures: string[];
  /** Why the set did not run here (then survived = total = 0). */
  skipped?: string;
}

/** Runs `cases` one after the other; a case returns null when it survived, else what went wrong. */
export async function runSet<C>(
  name: string,
  cases: readonly C[],
  run: (c: C) => Promise<string | null>,
  label: (c: C, index: number) => string,
  /** Said after the count, e.g. how many survived by a named refusal. */
  note: () => string = () => "",
): Promise<SetResult> {
  const result: SetResult = { name, survived: 0, total: cases.length, failures: [] };
  for (const [i, c] of cases.entries()) {
    const problem = await run(c).catch((error: unknown) => `crashed: ${(error as Error).message}`);
    if (problem === null) result.survived++;
    else result.failures.push(`${label(c, i)}: ${problem}`);
  }
  printSet(result, note());
  return result;
}

export function printSet(result: SetResult, note = ""): void {
  if (result.skipped !== undefined) {
    process.stdout.write(`${result.name.padEnd(52)} skipped: ${result.skipped}\n`);
    return;
  }
  process.stdout.write(`${result.name.padEnd(52)} survived ${result.survived}/${result.total}${note}\n`);
  for (const f of result.failures.slice(0, 8)) process.stdout.write(`    ${f}\n`);
  if (result.failures.length > 8) process.stdout.write(`    … and ${result.failures.length - 8} more\n`);
}

export function printTotal(results: readonly SetResult[], seconds: number, note: string): void {
  const total = results.reduce((n, r) => n + r.total, 0);
  const survived = results.reduce((n, r) => n + r.survived, 0);
  process.stdout.write(
    `${"all sets".padEnd(52)} survived ${survived}/${total} in ${seconds.toFixed(0)} s (${note})\n`,
  );
}
