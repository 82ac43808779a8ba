import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TransportError } from "../../../src/targets/transport/errors.js";
import { i2cBusPath, openI2cBus, openI2cTransport, parseI2cBus } from "../../../src/targets/transport/i2c.js";
import { checkI2cAddress, i2cTransactionMs } from "../../../src/targets/transport/i2c-types.js";

/** A bus number with no /dev/i2c-N on this machine (this one has none at all; CI runners may have some). */
function missingBus(): number {
  for (let bus = 250; bus < 1000; bus++) if (!existsSync(i2cBusPath(bus))) return bus;
  throw new Error("every /dev/i2c-250..999 exists");
}

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (error instanceof TransportError) return error;
  throw error;
}

describe("I2C transport on Linux i2c-dev", () => {
  it("refuses a bus whose /dev/i2c-N does not exist with bus-missing and says what to check", async () => {
    const bus = missingBus();
    const error = await rejection(openI2cBus(bus));
    expect(error.code).toBe("bus-missing");
    expect(error.message).toBe(
      `/dev/i2c-${bus} does not exist: is the i2c-dev module loaded and the bus number right? [bus-missing]`,
    );
    expect(error.context).toEqual({ port: `/dev/i2c-${bus}` });
  });

  it("fails a transport to a module on a missing bus the same way, whatever form the bus is given in", async () => {
    const bus = missingBus();
    for (const spec of [bus, String(bus), `i2c-${bus}`, `/dev/i2c-${bus}`]) {
      const error = await rejection(openI2cTransport(spec, 0x51));
      expect(error.code).toBe("bus-missing");
      expect(error.message).toContain(`/dev/i2c-${bus} does not exist`);
    }
  });

  it("reads bus numbers as 1, i2c-1 or /dev/i2c-1 and refuses anything else", () => {
    expect(parseI2cBus("1")).toBe(1);
    expect(parseI2cBus(" i2c-12 ")).toBe(12);
    expect(parseI2cBus("/dev/i2c-3")).toBe(3);
    expect(parseI2cBus(4)).toBe(4);
    for (const bad of ["", "i2c", "/dev/ttyUSB0", "-1", "1.5", "0x1"]) {
      expect(() => parseI2cBus(bad), bad).toThrow(TransportError);
    }
  });

  it("refuses an address outside 0x03..0x77 before touching the bus, naming the 8-bit mistake", async () => {
    const bus = missingBus();
    const error = await rejection(openI2cTransport(bus, 0xa2));
    expect(error.code).toBe("bad-settings");
    expect(error.message).toContain("not a 7-bit slave address in 0x03..0x77");
    expect(error.context).toMatchObject({ address: 0xa2 });
    expect(() => checkI2cAddress(0x02, "bus")).toThrow(TransportError);
    expect(() => checkI2cAddress(0x78, "bus")).toThrow(TransportError);
    expect(() => checkI2cAddress(0x03, "bus")).not.toThrow();
    expect(() => checkI2cAddress(0x77, "bus")).not.toThrow();
  });

  it("models a transaction as START, address byte, 9 bits per byte and STOP", () => {
    // 258-byte Write Memory data frame at 400 kHz: (11 + 258 × 9) bit times of 2.5 µs.
    expect(i2cTransactionMs(258, 400_000)).toBeCloseTo(((11 + 258 * 9) * 1000) / 400_000, 9);
    expect(i2cTransactionMs(1, 400_000)).toBeCloseTo(0.05, 9);
    expect(i2cTransactionMs(1, 100_000)).toBeCloseTo(0.2, 9);
  });
});
