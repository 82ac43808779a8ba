import { describe, expect, it } from "vitest";
import { eraseUnits, flashSize, type DeviceInfo, type Family } from "../../../src/targets/stm32/device.js";
import {
  DEVICES,
  TIMING_PRESETS,
  devicesOfFamily,
  findDevice,
  resolveDevice,
} from "../../../src/targets/stm32/devices.js";
import { BootloaderError } from "../../../src/targets/stm32/errors.js";

const hex = (n: number): string => `0x${n.toString(16)}`;
const label = (d: DeviceInfo): string => `${d.name} (PID ${hex(d.pid)})`;
const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start < b.end && b.start < a.end;

describe("device table", () => {
  it("holds at least 40 distinct product IDs", () => {
    const pids = new Set(DEVICES.map((d) => d.pid));
    expect(pids.size).toBe(DEVICES.length);
    expect(pids.size).toBeGreaterThanOrEqual(40);
  });

  it("covers every family the bootloader reference describes", () => {
    const families: Family[] = [
      "C0",
      "F0",
      "F1",
      "F2",
      "F3",
      "F4",
      "F7",
      "G0",
      "G4",
      "H5",
      "H7",
      "L0",
      "L1",
      "L4",
      "L5",
      "U5",
      "WB",
      "WL",
    ];
    for (const family of families) expect(devicesOfFamily(family).length, family).toBeGreaterThan(0);
  });

  it("includes the product IDs the task names", () => {
    const wanted = [
      0x412, 0x410, 0x414, 0x420, 0x428, 0x430, 0x418, 0x432, 0x422, 0x438, 0x446, 0x419, 0x434, 0x452, 0x449,
      0x451, 0x450, 0x483, 0x480, 0x411, 0x413, 0x460, 0x447, 0x468, 0x415, 0x495, 0x497, 0x482, 0x453,
    ];
    for (const pid of wanted) expect(findDevice(pid), hex(pid)).toBeDefined();
  });

  it.each(DEVICES.map((d) => [label(d), d] as const))("%s: erase units tile the flash exactly", (_, d) => {
    const units = eraseUnits(d);
    expect(units.length).toBeGreaterThan(0);
    let expected = d.flash.start;
    units.forEach((u, i) => {
      expect(u.index).toBe(i);
      expect(u.start).toBe(expected);
      expect(u.size).toBeGreaterThan(0);
      expected += u.size;
    });
    expect(expected).toBe(d.flash.end);
  });

  it.each(DEVICES.map((d) => [label(d), d] as const))("%s: ranges are sane and disjoint", (_, d) => {
    expect(d.flash.start).toBe(0x08000000);
    expect(flashSize(d)).toBeGreaterThan(0);
    expect(flashSize(d) % 1024).toBe(0);
    // RAM may be empty (F04x, L01x: the bootloader uses all of it), never inverted.
    expect(d.ram.start).toBeGreaterThanOrEqual(0x20000000);
    expect(d.ram.end).toBeGreaterThanOrEqual(d.ram.start);
    expect(d.ram.end).toBeLessThanOrEqual(0x20300000);
    expect(d.systemMemory.end).toBeGreaterThan(d.systemMemory.start);
    expect(overlaps(d.systemMemory, d.flash)).toBe(false);
    expect(overlaps(d.systemMemory, d.ram)).toBe(false);
    if (d.optionBytes) {
      expect(d.optionBytes.end).toBeGreaterThan(d.optionBytes.start);
      expect(overlaps(d.optionBytes, d.flash)).toBe(false);
      expect(overlaps(d.optionBytes, d.systemMemory)).toBe(false);
      // The reference writes option-byte ends inclusive (…80F); half-open ends are one past, so even.
      expect(d.optionBytes.end % 2).toBe(0);
    }
  });

  it.each(DEVICES.map((d) => [label(d), d] as const))("%s: protocol parameters are consistent", (_, d) => {
    expect([2, 4, 8, 16, 32]).toContain(d.flashWord);
    expect(d.unitsPerWrpSector).toBeGreaterThanOrEqual(1);
    expect(d.maxUnitsPerErase).toBeGreaterThanOrEqual(1);
    expect(d.maxUnitsPerErase).toBeLessThanOrEqual(512);
    for (const u of eraseUnits(d)) expect(u.size % d.flashWord).toBe(0);
    expect([0x22, 0x30, 0x31, 0x33]).toContain(d.bootloader.usartVersion);
    // The legacy Erase (v2.x) numbers pages with one byte and carries at most 255 of them (§2.3.7).
    if (d.bootloader.usartVersion < 0x30) {
      expect(d.maxUnitsPerErase).toBeLessThanOrEqual(255);
      expect(eraseUnits(d).length).toBeLessThanOrEqual(256);
    }
    if (d.bootloader.i2cVersion !== undefined) expect([0x10, 0x11, 0x12]).toContain(d.bootloader.i2cVersion);
    if (d.bootloader.i2cAddress !== undefined) {
      expect(d.bootloader.i2cAddress).toBeGreaterThanOrEqual(0x03);
      expect(d.bootloader.i2cAddress).toBeLessThanOrEqual(0x77);
    }
    const t = d.timing;
    expect(t.programWordUs.max).toBeGreaterThanOrEqual(t.programWordUs.typ);
    expect(t.eraseUnit.baseMs.max).toBeGreaterThanOrEqual(t.eraseUnit.baseMs.typ);
    expect(t.massEraseMs.max).toBeGreaterThanOrEqual(t.massEraseMs.typ);
    expect(Object.values(TIMING_PRESETS)).toContain(t);
  });

  it("gives each family its flash word", () => {
    const word: Partial<Record<Family, number>> = {
      F0: 2,
      F1: 2,
      F3: 2,
      F2: 4,
      F4: 4,
      F7: 4,
      L0: 4,
      L1: 4,
      G0: 8,
      G4: 8,
      L4: 8,
      WB: 8,
      WL: 8,
      C0: 8,
      L5: 16,
      U5: 16,
      H5: 16,
      U0: 8,
      // U3: double words (64-bit), the only program type of ST's HAL (stm32u3xx_hal_flash.h), not U5's quad words.
      U3: 8,
      WBA: 16,
    };
    for (const d of DEVICES) {
      const expected = d.family === "H7" ? (d.pid === 0x480 || d.pid === 0x485 ? 16 : 32) : word[d.family];
      expect(d.flashWord, label(d)).toBe(expected);
    }
  });

  it("marks L0 and L1 as parts without mass erase, with the 511/512 page splits", () => {
    for (const d of DEVICES) expect(d.massErase, label(d)).toBe(d.family !== "L0" && d.family !== "L1");
    for (const d of devicesOfFamily("L0")) expect(d.maxUnitsPerErase).toBe(511);
    for (const d of devicesOfFamily("L1")) expect(d.maxUnitsPerErase).toBe(512);
  });

  it("gives F1 medium-density protocol v2.2 and G0B/C0/H5/U5 protocol v3.3", () => {
    expect(findDevice(0x410)?.bootloader.usartVersion).toBe(0x22);
    for (const pid of [0x467, 0x443, 0x453, 0x474, 0x484, 0x482])
      expect(findDevice(pid)?.bootloader.usartVersion, hex(pid)).toBe(0x33);
  });

  it("lays out the dual-bank F429 as 24 sectors, the second bank repeating the first", () => {
    const f429 = resolveDevice("f429");
    expect(f429.dualBank).toBe(true);
    const units = eraseUnits(f429);
    expect(units).toHaveLength(24);
    expect(units.slice(12).map((u) => u.size)).toEqual(units.slice(0, 12).map((u) => u.size));
    expect(units[12]?.start).toBe(0x08100000);
    expect(units[4]?.size).toBe(64 * 1024);
  });

  it("corrects the H72x flash start typo of the source table", () => {
    expect(resolveDevice("h723").flash).toEqual({ start: 0x08000000, end: 0x08100000 });
  });

  it("keeps stm32flash's RAM and system memory for F09x, not stm32loader's swapped ones", () => {
    const f091 = resolveDevice("f091");
    expect(f091.ram).toEqual({ start: 0x20001800, end: 0x20008000 });
    expect(f091.systemMemory).toEqual({ start: 0x1fffd800, end: 0x1ffff800 });
  });

  it("turns the reference's inclusive option-byte ends into half-open ranges", () => {
    expect(resolveDevice("f103").optionBytes).toEqual({ start: 0x1ffff800, end: 0x1ffff810 });
    expect(resolveDevice("g071").optionBytes).toEqual({ start: 0x1fff7800, end: 0x1fff7880 });
    expect(resolveDevice("h743").optionBytes).toBeUndefined();
  });

  it("keeps the seed entries' values", () => {
    const f103 = findDevice(0x410)!;
    expect(f103.flash).toEqual({ start: 0x08000000, end: 0x08020000 });
    expect(f103.ram).toEqual({ start: 0x20000200, end: 0x20005000 });
    expect(f103.maxUnitsPerErase).toBe(255);
    const g071 = findDevice(0x460)!;
    expect(g071.bootloader).toEqual({
      usartVersion: 0x31,
      i2cVersion: 0x12,
      i2cAddress: 0x51,
      i2c: { address: { source: expect.stringContaining("0b1010001x"), confidence: "high" } },
      id: { value: 0xb3, address: 0x1fff6ffe },
    });
    expect(findDevice(0x447)!.flash.end).toBe(0x08030000);
    expect(eraseUnits(findDevice(0x413)!)).toHaveLength(12);
    expect(eraseUnits(findDevice(0x450)!)).toHaveLength(16);
  });
});

describe("device aliases", () => {
  it("are lower case, short and unique across the table", () => {
    const seen = new Map<string, string>();
    for (const d of DEVICES) {
      expect(d.aliases.length, label(d)).toBeGreaterThan(0);
      for (const alias of d.aliases) {
        expect(alias).toMatch(/^[a-z][a-z0-9-]{1,11}$/);
        expect(seen.get(alias), `alias "${alias}" of ${label(d)}`).toBeUndefined();
        seen.set(alias, label(d));
      }
    }
  });

  it.each([
    ["f103", 0x410],
    ["f103c8", 0x410],
    ["f407", 0x413],
    ["g071", 0x460],
    ["l073", 0x447],
    ["h743", 0x450],
    ["f030", 0x440],
    ["f072", 0x448],
    ["f303", 0x422],
    ["f429", 0x419],
    ["f746", 0x449],
    ["g431", 0x468],
    ["l476", 0x415],
    ["wb55", 0x495],
    ["wl55", 0x497],
    ["u575", 0x482],
    ["c031", 0x453],
  ])("resolve %s to PID %s", (alias, pid) => {
    expect(resolveDevice(alias).pid).toBe(pid);
  });
});

describe("resolveDevice", () => {
  it("accepts product IDs in hex and decimal", () => {
    expect(resolveDevice("0x460").name).toBe("STM32G07x/G08x");
    expect(resolveDevice("0X460").pid).toBe(0x460);
    expect(resolveDevice(String(0x410)).pid).toBe(0x410);
  });

  it("ignores case, surrounding blanks and an stm32 prefix", () => {
    expect(resolveDevice("  STM32F103C8 ").pid).toBe(0x410);
    expect(resolveDevice("G071").pid).toBe(0x460);
  });

  it("rejects an unknown name with unknown-device, listing the accepted names", () => {
    let error: unknown;
    try {
      resolveDevice("f999");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BootloaderError);
    const e = error as BootloaderError;
    expect(e.code).toBe("unknown-device");
    expect(e.context).toEqual({ device: "f999" });
    expect(e.message).toContain('"f999"');
    for (const d of DEVICES) expect(e.message).toContain(d.aliases[0]);
  });

  it("rejects an unknown product ID", () => {
    expect(() => resolveDevice("0x999")).toThrow(/unknown device "0x999"/);
    expect(findDevice(0x999)).toBeUndefined();
  });
});
