import { describe, expect, it } from "vitest";
import { parseByteString } from "../../src/gateway/config/byte-string.js";
import { probePattern } from "../../src/gateway/module/health.js";

describe("health probe pattern", () => {
  it("matches the expected version literally", () => {
    const pattern = probePattern("^subflash-app {version} ok$", "1.0.0+build.7");
    expect(pattern.test("subflash-app 1.0.0+build.7 ok")).toBe(true);
    expect(pattern.test("subflash-app 1x0x0+build.7 ok")).toBe(false);
    expect(pattern.test("subflash-app 1.0.0+build.7 ok, rebooting")).toBe(false);
  });

  it("captures the version when the gateway does not know it", () => {
    const pattern = probePattern("^subflash-app {version} ok$", null);
    expect(pattern.exec("subflash-app 3.1.4 ok")?.groups?.version).toBe("3.1.4");
  });
});

describe("byte strings", () => {
  it("reads hex and escaped text", () => {
    expect(parseByteString("hex:7f 00:ff,01")).toEqual(Uint8Array.of(0x7f, 0x00, 0xff, 0x01));
    expect(parseByteString("!boot\\n")).toEqual(new TextEncoder().encode("!boot\n"));
    expect(parseByteString("text:a\\x00\\r\\t\\\\")).toEqual(Uint8Array.of(0x61, 0, 0x0d, 0x09, 0x5c));
    expect(parseByteString("é")).toEqual(Uint8Array.of(0xc3, 0xa9));
  });

  it("names what is wrong", () => {
    expect(() => parseByteString("hex:7f0")).toThrow(/not a hex byte string/);
    expect(() => parseByteString("a\\q")).toThrow(/unknown escape "\\q"/);
    expect(() => parseByteString("\\xZZ")).toThrow(/bad escape/);
  });
});
