/**
 * The engine killed in the middle of writing a slot (HaltGate, as a SIGKILL would freeze it), then a
 * new engine on the same state and modules: the resumed write continues from what the module holds
 * (units already written are checked with Get Checksum and skipped), and the module ends committed.
 */
import { describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../../src/gateway/config/config.js";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { Rig, type ReleaseSpec } from "./harness.js";

/** Motor (G071, A/B, 2 KiB pages) with an image of ~12 pages, so a kill mid-write leaves whole pages done. */
const RELEASE: ReleaseSpec = {
  sequence: 1,
  modules: { motor: { version: "2.0.0", order: 0, size: 24_000 } },
};

function configure(raw: GatewayConfigInput): void {
  raw.recovery = "resume";
  for (const m of raw.modules) m.health = { kind: "uart-probe", bootDelayMs: 0, timeoutMs: 120, attempts: 1 };
}

async function killMidWrite(fraction: number) {
  const rig = new Rig({ configure, bootloaderVersion: { motor: 0x33 } });
  try {
    const gate = new HaltGate();
    let markKilled!: () => void;
    const killed = new Promise<void>((resolve) => (markKilled = resolve));
    const first = await rig.engine({ haltGate: gate });
    first.on("module-status", (s) => {
      const p = s.progress;
      if (s.module === "motor" && p?.phase === "write" && p.done >= fraction * p.total && !gate.halted) {
        gate.halt();
        markKilled();
      }
    });
    await Promise.race([first.submitBundle(rig.bundle(RELEASE)).then(() => first.idle()), killed]);
    expect(gate.halted).toBe(true);
    const second = await rig.engine();
    await second.idle();
    const status = rig.statuses(second).motor!;
    return { status, running: rig.running("motor").version };
  } finally {
    await rig.close();
  }
}

describe("resume of a slot write killed mid-way", () => {
  for (const fraction of [0.3, 0.6, 0.95]) {
    it(`continues from the units already written after a kill at ${fraction * 100} % of the write`, async () => {
      const { status, running } = await killMidWrite(fraction);
      expect(status.state).toBe("committed");
      expect(running).toBe("2.0.0");
      expect(status.flash).toBeTruthy();
      const flash = status.flash!;
      expect(flash.unitsSkipped, JSON.stringify(flash)).toBeGreaterThan(0);
      expect(flash.unitsWritten).toBe(flash.unitsCovered - flash.unitsSkipped);
      expect(flash.unitsChecked).toBe(flash.unitsCovered);
    }, 60_000);
  }
});
