/**
 * The device table's I2C bootloader facts: every address carries its source and a confidence,
 * every I2C part is listed in docs/devices.md and `subflash devices --json`, and an unknown address
 * is said to be unknown rather than guessed.
 */
import { describe, expect, it } from "vitest";
import { hasI2cBootloader } from "../../../src/targets/stm32/device.js";
import {
  I2C_ADDRESS_UNKNOWN,
  deviceSummaries,
  renderDevicesMarkdown,
} from "../../../src/targets/stm32/device-summary.js";
import { DEVICES, findDevice } from "../../../src/targets/stm32/devices.js";

const hex2 = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, "0")}`;

describe("I2C bootloader addresses in the device table", () => {
  it("cite a source and a confidence for every address", () => {
    const withAddress = DEVICES.filter((d) => d.bootloader.i2cAddress !== undefined);
    expect(withAddress.length).toBeGreaterThanOrEqual(10);
    for (const d of withAddress) {
      const address = d.bootloader.i2c?.address;
      expect(address, d.name).toBeDefined();
      expect(address!.source.length, d.name).toBeGreaterThan(40);
      expect(["high", "medium", "low"]).toContain(address!.confidence);
    }
  });

  it("say where an I2C bootloader without a known address is documented", () => {
    for (const d of DEVICES.filter(hasI2cBootloader)) {
      const facts = d.bootloader.i2c;
      expect(facts, d.name).toBeDefined();
      if (d.bootloader.i2cAddress === undefined) {
        expect(facts!.address, d.name).toBeUndefined();
        expect(facts!.source, d.name).toMatch(/address is in no source we found/);
      }
    }
  });

  it("keep the G03x/G04x address (0x56) apart from the G07x/G08x one (0x51), which AN2606 rev 45 confused", () => {
    expect(findDevice(0x466)!.bootloader).toMatchObject({ i2cAddress: 0x56, i2cVersion: 0x12 });
    expect(findDevice(0x460)!.bootloader).toMatchObject({ i2cAddress: 0x51, i2cVersion: 0x12 });
    expect(findDevice(0x466)!.bootloader.i2c?.address?.confidence).toBe("high");
    expect(findDevice(0x460)!.bootloader.i2c?.address?.confidence).toBe("high");
  });

  it("are 7-bit addresses outside the reserved ranges, never the 8-bit form", () => {
    for (const d of DEVICES) {
      const a = d.bootloader.i2cAddress;
      if (a === undefined) continue;
      // 8-bit forms (0xA2 for 0x51) are the classic mistake; reserved 0x00–0x07 and 0x78–0x7F never occur.
      expect(a, d.name).toBeGreaterThanOrEqual(0x08);
      expect(a, d.name).toBeLessThanOrEqual(0x77);
    }
  });

  it("name ports as I2C1..I2C4 with pins written Pxn", () => {
    for (const d of DEVICES) {
      for (const port of d.bootloader.i2c?.ports ?? []) {
        expect(port.instance).toMatch(/^I2C[1-4]$/);
        if (port.scl !== undefined) expect(port.scl).toMatch(/^P[A-K]\d{1,2}$/);
        if (port.sda !== undefined) expect(port.sda).toMatch(/^P[A-K]\d{1,2}$/);
      }
    }
  });
});

describe("I2C addresses as users read them", () => {
  it("lists every I2C part in docs/devices.md, saying 'not known — scan the bus' where no source gives the address", () => {
    const doc = renderDevicesMarkdown();
    const section = doc.slice(
      doc.indexOf("## I2C bootloader addresses"),
      doc.indexOf("## What stays unverified"),
    );
    expect(section.length).toBeGreaterThan(0);
    for (const d of DEVICES.filter(hasI2cBootloader)) {
      const pid = `0x${d.pid.toString(16).toUpperCase()}`;
      const row = section.split("\n").find((line) => line.startsWith(`| ${pid} |`));
      expect(row, d.name).toBeDefined();
      const a = d.bootloader.i2cAddress;
      expect(row, d.name).toContain(
        a === undefined ? I2C_ADDRESS_UNKNOWN : `| ${hex2(a)} | ${d.bootloader.i2c!.address!.confidence} |`,
      );
    }
    expect(I2C_ADDRESS_UNKNOWN).toBe(
      "not known — scan the bus (i2cdetect; bootloader I2C v1.2 answers probes)",
    );
  });

  it("shows address, confidence, source and pins in the devices summary (subflash devices --json)", () => {
    const g031 = deviceSummaries().find((r) => r.pid === "0x466")!;
    expect(g031).toMatchObject({
      i2cBootloader: true,
      i2cVersion: "1.2",
      i2cAddress: "0x56",
      i2cAddressConfidence: "high",
      i2cPorts: "I2C1 (SCL PB6, SDA PB7)",
    });
    expect(g031.i2cAddressSource).toContain("0b1010110x");
    const f303 = deviceSummaries().find((r) => r.aliases.includes("f303"))!;
    expect(f303.i2cBootloader).toBe(true);
    expect(f303.i2cAddress).toBeUndefined();
    expect(f303.i2cSource).toContain("no source we found");
    const f103 = deviceSummaries().find((r) => r.pid === "0x410")!;
    expect(f103.i2cBootloader).toBe(false);
  });
});
