/**
 * Crash tests of the daemon PROCESS (`subflash daemon --simulate`, SUBFLASH_TEST_KILL_AT): where the
 * daemon SIGKILLs itself, chosen deterministically so a fault benchmark can walk an update point by
 * point and each point means the same thing on every run:
 *
 *   bundle-verified       a bundle received and verified, not yet journalled
 *   journal:<k>           right after the engine's k-th durable journal write of this start
 *   write:<module>:<n>    right after the n-th Write Memory command on that module completed (its
 *                         bytes are in the module's flash file: n × 256 bytes into a slot, AN3155 §3.6
 *                         / AN4221 §3.6 write at most 256 bytes per command)
 *   erase:<module>:<n>    right after the n-th (Extended) Erase command on that module
 *
 * The simulated flash is written through to its file after every command (persistence.ts), so the
 * kill leaves the "module" as a real board would be left by a gateway that died at that instant.
 */
import type { EngineOptions } from "../../gateway/index.js";
import { NO_STRETCH_OF } from "../module/i2c-opcodes.js";
import { Op } from "../module/opcodes.js";
import type { SimModules } from "./sim-modules.js";

export type KillPoint =
  | { kind: "bundle-verified" }
  | { kind: "journal"; write: number }
  | { kind: "command"; command: "write" | "erase"; module: string; count: number };

/** Parses a SUBFLASH_TEST_KILL_AT value; throws an Error naming the accepted forms. */
export function parseKillPoint(spec: string): KillPoint {
  if (spec === "bundle-verified") return { kind: "bundle-verified" };
  const journal = /^journal:(\d+)$/.exec(spec);
  if (journal) return { kind: "journal", write: Number(journal[1]) };
  const command = /^(write|erase):([^:]+):(\d+)$/.exec(spec);
  if (command)
    return {
      kind: "command",
      command: command[1] as "write" | "erase",
      module: command[2]!,
      count: Number(command[3]),
    };
  throw new Error(
    `SUBFLASH_TEST_KILL_AT=${spec}: expected bundle-verified, journal:<k>, write:<module>:<n> or erase:<module>:<n>`,
  );
}

export interface KillHooks {
  journalHook?: EngineOptions["journalHook"];
  crashPoint?: EngineOptions["crashPoint"];
}

/**
 * Arms `point`: returns the engine hooks it needs and, for device commands, listens on the simulated
 * module. `kill` ends the process (the daemon passes a SIGKILL of itself).
 */
export function armKillPoint(point: KillPoint, sims: SimModules | null, kill: () => void): KillHooks {
  if (point.kind === "bundle-verified")
    return {
      crashPoint: (p) => {
        if (p === "bundle-verified") kill();
      },
    };
  if (point.kind === "journal")
    return {
      journalHook: ({ count }) => {
        if (count === point.write) kill();
      },
    };
  const sim = sims?.sims.get(point.module);
  if (!sim) throw new Error(`SUBFLASH_TEST_KILL_AT: no simulated module "${point.module}"`);
  const wanted: readonly number[] =
    point.command === "write" ? [Op.writeMemory] : [Op.erase, Op.extendedErase];
  let seen = 0;
  sim.on("command", ({ opcode }) => {
    // I2C's No-Stretch variants (AN4221 §3.7) count as the command they stand for.
    if (wanted.includes(NO_STRETCH_OF.get(opcode) ?? opcode) && ++seen === point.count) kill();
  });
  return {};
}
