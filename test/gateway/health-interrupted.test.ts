/**
 * Defect 10 (issue 10): a restart during a health check used the module's one trial boot; the resumed
 * check saw the old firmware and reported `health-check-failed`, blaming a good release. The engine is
 * halted at the journal write that starts a module's health check (as a kill would), the modules are
 * reset (the restart pulses their reset lines, or the whole product lost power), and a new engine
 * resumes: the check is repeated with a fresh trial and the good release commits.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/gateway/config/config.js";
import { MODULE_IDS, Rig, type ModuleId, type ReleaseSpec } from "./harness.js";

const HEALTHY: ReleaseSpec = {
  sequence: 1,
  modules: {
    power: { version: "2.0.0", order: 0 },
    motor: { version: "2.0.0", order: 0 },
    radio: { version: "2.0.0", order: 1 },
  },
};

function configure(raw: GatewayConfigInput): void {
  for (const m of raw.modules) m.health = { kind: "uart-probe", bootDelayMs: 0, timeoutMs: 120, attempts: 1 };
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe("a restart during a health check", () => {
  it.each(["motor", "radio", "power"] as const)(
    "repeats the %s health check with a fresh trial and commits the good release, never blaming the firmware",
    async (victim: ModuleId) => {
      rig = new Rig({ configure });
      let killed = false;
      const first = await rig.engine({
        journalHook: ({ what }) => {
          if (killed || what !== `${victim}: health-check`) return undefined;
          killed = true;
          return "halt";
        },
      });
      void first.submitBundle(rig.bundle(HEALTHY));
      const until = Date.now() + 20_000;
      while (!killed && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(killed).toBe(true);
      // The trial was running: a reset of the module uses it up, and the selector falls back.
      for (const id of MODULE_IDS) rig.powerCycle(id);

      const second = await rig.engine();
      await second.idle();
      const statuses = rig.statuses(second);
      expect(statuses[victim]!.lastError?.code ?? null).not.toBe("health-check-failed");
      for (const id of MODULE_IDS) {
        expect(statuses[id], id).toMatchObject({ state: "committed", version: "2.0.0" });
        rig.powerCycle(id);
        expect(rig.running(id).version, `${id} after a power cycle`).toBe("2.0.0");
      }
      expect(second.gatewayStatus().bundle?.state).toBe("committed");
    },
  );
});
