import { describe, expect, it } from "vitest";
import { resolveDevice } from "../../../src/targets/stm32/devices.js";
import { eraseUnits } from "../../../src/targets/stm32/device.js";
import {
  DEFAULT_TIMEOUT_POLICY,
  deviceWorstCase,
  replyTimeoutMs,
  wireMs,
} from "../../../src/targets/stm32/link-timeouts.js";

describe("reply timeouts", () => {
  const f407 = resolveDevice("f407");

  it("counts 11 bits a byte on the wire (8E1)", () => {
    expect(wireMs(268, 115200)).toBeCloseTo(25.59, 1);
    expect(wireMs(11520, 115200)).toBeCloseTo(1100, 5);
  });

  it("gives an F4 128 KiB sector erase at least 4 s and an F4 mass erase at least 32 s", () => {
    const sector = eraseUnits(f407).find((u) => u.size === 128 * 1024)!;
    expect(
      replyTimeoutMs(DEFAULT_TIMEOUT_POLICY, 115200, 4, deviceWorstCase.eraseUnits(f407, [sector.size])),
    ).toBeGreaterThanOrEqual(4_000);
    expect(
      replyTimeoutMs(DEFAULT_TIMEOUT_POLICY, 115200, 4, deviceWorstCase.eraseAll(f407)),
    ).toBeGreaterThanOrEqual(32_000);
  });

  it("grows with the frame's wire time at low baud rates", () => {
    const at115200 = replyTimeoutMs(DEFAULT_TIMEOUT_POLICY, 115200, 261);
    const at9600 = replyTimeoutMs(DEFAULT_TIMEOUT_POLICY, 9600, 261);
    expect(at9600 - at115200).toBeGreaterThan(wireMs(261, 9600) - wireMs(261, 115200));
  });

  it("sizes a page-by-page full erase on parts without mass erase", () => {
    const l073 = resolveDevice("l073");
    expect(l073.massErase).toBe(false);
    expect(deviceWorstCase.eraseAll(l073)).toBeGreaterThan(
      eraseUnits(l073).length * l073.timing.eraseUnit.baseMs.max * 0.99,
    );
  });
});
