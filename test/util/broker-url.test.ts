/** Broker addresses: what `--broker` and the daemon's mqtt.url accept, and how they refuse the rest. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/gateway/config/config.js";
import { ConfigError } from "../../src/gateway/errors.js";
import { parseBrokerUrl } from "../../src/util/broker-url.js";
import { isSubflashError } from "../../src/util/errors.js";

describe("a broker address", () => {
  it.each([
    ["localhost:18831", "mqtt://localhost:18831"],
    ["127.0.0.1:1883", "mqtt://127.0.0.1:1883"],
    ["[::1]:1883", "mqtt://[::1]:1883"],
    ["mqtt://broker.example.com", "mqtt://broker.example.com"],
    ["MQTTS://broker.example.com:8883", "mqtts://broker.example.com:8883"],
    ["ws://localhost:9001/mqtt", "ws://localhost:9001/mqtt"],
    ["wss://user@broker.example.com:443/mqtt", "wss://user@broker.example.com:443/mqtt"],
    ["mqtt://[::1]:1883", "mqtt://[::1]:1883"],
  ])("%s is accepted as %s", (input, url) => {
    expect(parseBrokerUrl(input)).toBe(url);
  });

  it.each([
    ["http://localhost:1883", /unsupported scheme "http:\/\/"/],
    ["tcp://localhost:1883", /unsupported scheme "tcp:\/\/"/],
    ["localhost", /no scheme and not host:port/],
    ["", /empty/],
    ["localhost:0", /port 0 is out of range \(1–65535\)/],
    ["mqtt://localhost:65536", /port 65536 is out of range/],
    ["mqtt://localhost:http", /port "http" is not a number/],
    ["localhost:18x31", /port "18x31" is not a number/],
    ["mqtt://:1883", /no host/],
  ])("%s is refused: %s", (input, message) => {
    let error: unknown;
    try {
      parseBrokerUrl(input);
    } catch (e) {
      error = e;
    }
    expect(isSubflashError(error) && error.code).toBe("bad-url");
    expect((error as Error).message).toMatch(message);
  });
});

describe("the daemon configuration's mqtt.url", () => {
  const raw = (url: string): unknown => ({
    gateway: { id: "gw-1" },
    trustStore: "/etc/subflash/trust.json",
    stateDir: "/var/lib/subflash",
    mqtt: { url },
    modules: [
      {
        id: "motor",
        type: "motor-board",
        device: "g071",
        transport: { usart: { path: "/dev/ttyS2" } },
        entry: { method: "app-command", send: "!boot\\n" },
        layout: { kind: "single", slot: { address: "0x08004000", size: "0xE000" } },
      },
    ],
  });

  it("takes host:port as mqtt://host:port", () => {
    expect(parseConfig(raw("localhost:18831"), { checkFiles: false }).mqtt?.url).toBe(
      "mqtt://localhost:18831",
    );
  });

  it("refuses an invalid port with the field's path, before any connection is tried", () => {
    let error: unknown;
    try {
      parseConfig(raw("mqtt://localhost:70000"), { checkFiles: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(
      /mqtt\.url.*port 70000 is out of range \(1–65535\)/,
    );
  });
});
