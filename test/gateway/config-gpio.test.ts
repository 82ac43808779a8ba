/**
 * Defect 11 (issue 10), first half: the configuration accepted two modules sharing a BOOT0/NRST GPIO
 * line on different buses, which the engine may drive in parallel.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/gateway/config/config.js";
import { ConfigError } from "../../src/gateway/errors.js";

function gpioModule(id: string, path: string, lines: { boot0: number; nrst: number; chip?: string }) {
  return {
    id,
    type: "power-board",
    device: "f103",
    transport: { usart: { path } },
    entry: { method: "gpio", chip: lines.chip ?? "gpiochip0", boot0: lines.boot0, nrst: lines.nrst },
    layout: { kind: "single", slot: { address: 0x08000000, size: 0x10000 } },
  };
}

function configWith(modules: unknown[]) {
  return () =>
    parseConfig(
      { gateway: { id: "gw" }, trustStore: "t.json", stateDir: "state", modules },
      { file: "gw.yaml", checkFiles: false },
    );
}

describe("entry GPIO lines shared between modules", () => {
  it("refuses two modules on different buses sharing an NRST line, naming both", () => {
    const parse = configWith([
      gpioModule("left", "/dev/ttyS1", { boot0: 17, nrst: 27 }),
      gpioModule("right", "/dev/ttyS2", { boot0: 22, nrst: 27, chip: "/dev/gpiochip0" }),
    ]);
    expect(parse).toThrow(ConfigError);
    try {
      parse();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(
          /^modules\[1\]\.entry\.nrst: GPIO line 27 of gpiochip0 is also modules\[0\]\.entry\.nrst/,
        ),
      ]);
    }
  });

  it("refuses a BOOT0 line that is another module's NRST", () => {
    expect(
      configWith([
        gpioModule("left", "/dev/ttyS1", { boot0: 17, nrst: 27 }),
        gpioModule("right", "/dev/ttyS2", { boot0: 27, nrst: 28 }),
      ]),
    ).toThrow(/modules\[1\]\.entry\.boot0: GPIO line 27 of gpiochip0 is also modules\[0\]\.entry\.nrst/);
  });

  it("accepts shared lines on one bus (updates there are serialised) and the same offset on another chip", () => {
    expect(
      configWith([
        gpioModule("left", "/dev/ttyS1", { boot0: 17, nrst: 27 }),
        gpioModule("right", "/dev/ttyS1", { boot0: 17, nrst: 27 }),
        gpioModule("other", "/dev/ttyS3", { boot0: 17, nrst: 27, chip: "gpiochip1" }),
      ]),
    ).not.toThrow();
  });
});
