import { describe, expect, it } from "vitest";
import {
  applicationExit,
  bootloaderEntry,
  formatLineSequence,
  interpretLines,
  parseLineSequence,
  runLineSequence,
  type LineStep,
} from "../../../src/targets/transport/entry.js";
import { TransportError } from "../../../src/targets/transport/errors.js";
import type { SerialLines } from "../../../src/targets/transport/transport.js";

/** Records setLines() calls and pauses, and tracks the pins a default-wired board would see. */
function recorder() {
  const lines = { dtr: false, rts: false };
  const log: string[] = [];
  return {
    lines,
    log,
    transport: {
      setLines: (next: SerialLines): Promise<void> => {
        Object.assign(lines, Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)));
        const pins = interpretLines(lines);
        log.push(
          `dtr=${+lines.dtr} rts=${+lines.rts} boot0=${pins.boot0High ? "H" : "L"} ${pins.resetHeld ? "RESET" : "run"}`,
        );
        return Promise.resolve();
      },
    },
    sleep: (ms: number): Promise<void> => {
      log.push(`wait ${ms}`);
      return Promise.resolve();
    },
  };
}

describe("parseLineSequence", () => {
  it("reads line levels and waits in order", () => {
    expect(parseLineSequence("rts=1,dtr=1,wait=100,dtr=0,wait=50")).toEqual<LineStep[]>([
      { kind: "lines", lines: { rts: true } },
      { kind: "lines", lines: { dtr: true } },
      { kind: "wait", ms: 100 },
      { kind: "lines", lines: { dtr: false } },
      { kind: "wait", ms: 50 },
    ]);
  });

  it("changes both lines in one step with '+' and accepts on/off, true/false, blanks and case", () => {
    expect(parseLineSequence(" DTR=on + rts=false , wait = 20ms ")).toEqual<LineStep[]>([
      { kind: "lines", lines: { dtr: true, rts: false } },
      { kind: "wait", ms: 20 },
    ]);
  });

  it("reads the empty string as 'no sequence' (already in the bootloader)", () => {
    expect(parseLineSequence("")).toEqual([]);
    expect(parseLineSequence("   ")).toEqual([]);
  });

  it.each([
    ["cts=1", /unknown line "cts"/],
    ["dtr=2", /"2" is not a line level/],
    ["dtr", /is not "dtr=<0\|1>"/],
    ["dtr=1,,rts=0", /empty step/],
    ["dtr=1+dtr=0", /sets dtr twice/],
    ["wait=-5", /is not "dtr=<0\|1>"/],
    ["wait=600000", /exceeds 60000 ms/],
  ])("refuses %s with bad-settings", (sequence, message) => {
    let error: unknown;
    try {
      parseLineSequence(sequence);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe("bad-settings");
    expect((error as TransportError).message).toMatch(message);
    expect((error as TransportError).message).toContain(`"${sequence}"`);
  });

  it("round-trips through formatLineSequence", () => {
    const text = "dtr=1+rts=1,wait=100,dtr=0,wait=100";
    expect(formatLineSequence(parseLineSequence(text))).toBe(text);
    expect(formatLineSequence(bootloaderEntry())).toBe(text);
  });
});

describe("bootloader entry and exit presets", () => {
  it("enter the bootloader: BOOT0 high with reset held, pulse, release reset, settle", async () => {
    const r = recorder();
    await runLineSequence(r.transport, bootloaderEntry({ pulseMs: 10, settleMs: 20 }), { sleep: r.sleep });
    expect(r.log).toEqual(["dtr=1 rts=1 boot0=H RESET", "wait 10", "dtr=0 rts=1 boot0=H run", "wait 20"]);
  });

  it("exit to the application: BOOT0 low with reset held, pulse, release", async () => {
    const r = recorder();
    await runLineSequence(
      r.transport,
      [...bootloaderEntry(), ...applicationExit({ pulseMs: 5, settleMs: 0 })],
      { sleep: r.sleep },
    );
    expect(r.log.slice(-4)).toEqual([
      "dtr=1 rts=0 boot0=L RESET",
      "wait 5",
      "dtr=0 rts=0 boot0=L run",
      "wait 0",
    ]);
  });

  it("follow swapped lines and inverted polarities", () => {
    const wiring = { boot0: "dtr", reset: "rts", boot0ActiveHigh: false, resetActiveLow: false } as const;
    const steps = bootloaderEntry(wiring);
    expect(steps[0]).toEqual({ kind: "lines", lines: { dtr: false, rts: false } });
    expect(interpretLines({ dtr: false, rts: false }, wiring)).toEqual({ boot0High: true, resetHeld: true });
    expect(steps[2]).toEqual({ kind: "lines", lines: { rts: true } });
    expect(interpretLines({ dtr: false, rts: true }, wiring)).toEqual({ boot0High: true, resetHeld: false });
  });

  it("refuse BOOT0 and NRST on the same line", () => {
    expect(() => bootloaderEntry({ boot0: "dtr", reset: "dtr" })).toThrow(/cannot both be wired to DTR/);
  });

  it("pause for real when no sleep is injected", async () => {
    const r = recorder();
    const started = performance.now();
    await runLineSequence(r.transport, parseLineSequence("dtr=1,wait=30,dtr=0"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(r.lines.dtr).toBe(false);
  });
});
