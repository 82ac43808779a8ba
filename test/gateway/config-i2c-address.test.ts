/**
 * An I2C module's bootloader address defaults to the device table's (AN2606's address for the part);
 * where the table knows none, the configuration must give it and the error says how to find it.
 */
import { describe, expect, it } from "vitest";
import { parseConfig, portOf } from "../../src/gateway/config/config.js";
import { ConfigError } from "../../src/gateway/errors.js";

function i2cModule(device: string | number, i2c: Record<string, unknown>, id = "sensor") {
  return {
    id,
    type: "sensor-board",
    device,
    transport: { i2c },
    entry: { method: "none" },
    layout: { kind: "single", slot: { address: "0x08000000", size: "0x4000" } },
    health: { kind: "none" },
  };
}

function configWith(...modules: unknown[]) {
  return parseConfig(
    { gateway: { id: "gw-1" }, trustStore: "trust.json", stateDir: "state", modules },
    { file: "gw.yaml", baseDir: "/tmp", checkFiles: false },
  );
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

describe("an I2C module's bootloader address", () => {
  it("defaults to the device table's address for the module's device", () => {
    const config = configWith(
      i2cModule("g071", { bus: 1 }, "a"),
      i2cModule("g031", { bus: 1 }, "b"),
      i2cModule(0x460, { bus: 2 }, "c"),
    );
    expect(config.modules.map((m) => m.transport.i2c?.address)).toEqual([0x51, 0x56, 0x51]);
    expect(portOf(config.modules[1]!)).toBe("/dev/i2c-1@0x56");
  });

  it("keeps an address the configuration gives over the table's", () => {
    const config = configWith(i2cModule("g071", { bus: 1, address: "0x52" }));
    expect(config.modules[0]!.transport.i2c?.address).toBe(0x52);
  });

  it("refuses an omitted address for a part whose address the table does not know, saying how to find it", () => {
    const problems = problemsOf(() => configWith(i2cModule("f303", { bus: 1 })));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^modules\[0\]\.transport\.i2c\.address: required: the device table knows no I2C/,
    );
    expect(problems[0]).toContain("STM32F302xB/C, F303xB/C, F358 (f303)");
    expect(problems[0]).toContain("subflash scan --i2c <bus>");
    expect(problems[0]).toContain("i2cdetect");
  });

  it("refuses an omitted address for a device the table does not know", () => {
    const problems = problemsOf(() => configWith(i2cModule("f999", { bus: 1 })));
    expect(problems.some((p) => p.startsWith("modules[0].transport.i2c.address: required:"))).toBe(true);
    expect(problems.join("\n")).toContain('"f999" is not in the device table');
  });

  it("still refuses an 8-bit address written out", () => {
    const problems = problemsOf(() => configWith(i2cModule("g071", { bus: 1, address: "0xA2" })));
    expect(problems).toEqual([
      "modules[0].transport.i2c.address: must be a 7-bit slave address in 0x03..0x77 (not the 8-bit form)",
    ]);
  });
});
