import { afterEach, describe, expect, it } from "vitest";
import { insideWindow, localTime } from "../../src/gateway/run/window.js";
import { Rig } from "./harness.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

// 2026-03-04 is a Wednesday.
const wedUtc = (hhmm: string): number => Date.parse(`2026-03-04T${hhmm}:00Z`);

describe("maintenance windows", () => {
  it("reads wall-clock time in the window's time zone", () => {
    expect(localTime(wedUtc("01:30"), "Europe/Berlin")).toEqual({ day: "wed", minute: 2 * 60 + 30 });
    expect(localTime(wedUtc("01:30"), "America/New_York")).toEqual({ day: "tue", minute: 20 * 60 + 30 });
  });

  it("admits an instant inside a window and refuses one outside it, in the window's zone", () => {
    const windows = [{ days: ["wed" as const], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" }];
    expect(insideWindow(windows, wedUtc("01:30"))).toBe(true); // 02:30 in Berlin
    expect(insideWindow(windows, wedUtc("03:30"))).toBe(false); // 04:30 in Berlin
    expect(insideWindow(windows, Date.parse("2026-03-05T01:30:00Z"))).toBe(false); // Thursday
    expect(insideWindow(undefined, wedUtc("12:00"))).toBe(true);
  });

  it("counts the part of a window after midnight to the day it started", () => {
    const windows = [{ days: ["tue" as const], start: "23:00", end: "01:00", timeZone: "UTC" }];
    expect(insideWindow(windows, wedUtc("00:30"))).toBe(true);
    expect(insideWindow(windows, wedUtc("23:30"))).toBe(false);
  });

  it("refuses a configuration with an unknown time zone or a malformed time, naming both", () => {
    expect(
      () =>
        new Rig({
          configure: (raw) => {
            raw.maintenanceWindows = [
              { days: ["mon"], start: "2:00", end: "04:00", timeZone: "Mars/Olympus" },
            ];
          },
        }),
    ).toThrow(/maintenanceWindows\[0\]\.start[\s\S]*maintenanceWindows\[0\]\.timeZone/);
  });

  it("journals a bundle accepted outside its window, shows it waiting-for-window, and installs it when the window opens", async () => {
    let clock = Date.now();
    const opens = windowIn(20);
    rig = new Rig({ configure: (raw) => void (raw.maintenanceWindows = [opens.window]) });
    const engine = await rig.engine({ now: () => clock, windowPollMs: 10 });
    const outcome = await engine.submitBundle(
      rig.bundle({ sequence: 1, modules: { motor: { version: "2.0.0" } } }),
    );
    expect(outcome).toMatchObject({ ok: true, status: "accepted" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(engine.gatewayStatus().bundle?.state).toBe("waiting-for-window");
    expect(rig.statuses(engine).motor?.version ?? null).not.toBe("2.0.0");
    // A second bundle meanwhile is refused as busy: the waiting one holds the gateway.
    const second = await engine.submitBundle(
      rig.bundle({ sequence: 2, modules: { motor: { version: "3.0.0" } } }),
    );
    expect(second).toMatchObject({ ok: false, code: "busy" });

    clock = opens.at + 60_000;
    await engine.idle();
    expect(engine.gatewayStatus().bundle?.state).toBe("committed");
    expect(rig.statuses(engine).motor).toMatchObject({ state: "committed", version: "2.0.0" });
  });

  it("cancels a bundle that waits for its window without touching any module", async () => {
    rig = new Rig({ configure: (raw) => void (raw.maintenanceWindows = [windowIn(20).window]) });
    const engine = await rig.engine({ windowPollMs: 10 });
    await engine.submitBundle(rig.bundle({ sequence: 1, modules: { motor: { version: "2.0.0" } } }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answer = await engine.submitCommand(rig.command("cancel", { bundle: { sequence: 1 } }));
    expect(answer).toMatchObject({ ok: true, command: "cancel" });
    await engine.idle();
    expect(engine.gatewayStatus().bundle?.state).toBe("cancelled");
    expect(rig.statuses(engine).motor?.version ?? null).not.toBe("2.0.0");
  });
});

/** A 30-minute UTC window opening `minutes` from now (the manifests are signed with the real clock). */
function windowIn(minutes: number): {
  at: number;
  window: {
    days: Array<"sun" | "mon" | "tue" | "wed" | "thu" | "fri" | "sat">;
    start: string;
    end: string;
    timeZone: string;
  };
} {
  const at = Math.ceil((Date.now() + minutes * 60_000) / 60_000) * 60_000;
  const { day, minute } = localTime(at, "UTC");
  const hhmm = (m: number): string =>
    `${String(Math.floor((m % 1440) / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return { at, window: { days: [day], start: hhmm(minute), end: hhmm(minute + 30), timeZone: "UTC" } };
}
