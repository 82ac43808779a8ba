import { describe, expect, it } from "vitest";
import {
  assertCorrelationId,
  gatewayTopics,
  groupUpdateTopic,
  parseInboundTopic,
  parseStatusTopic,
  statusFilters,
} from "../../src/mqtt/contract/topics.js";

describe("gateway topics", () => {
  const t = gatewayTopics("subflash", "gw-1");

  it("builds every topic of the contract under the prefix, binary inputs in their own subtree", () => {
    expect(t.online).toBe("subflash/gw-1/online");
    expect(t.status).toBe("subflash/gw-1/status");
    expect(t.moduleStatus("power")).toBe("subflash/gw-1/modules/power/status");
    expect(t.events).toBe("subflash/gw-1/events");
    expect(t.update).toBe("subflash/in/gw-1/update");
    expect(t.groupUpdate("lab")).toBe("subflash/in/group/lab/update");
    expect(t.command).toBe("subflash/in/gw-1/command");
    expect(t.commandFor("c1")).toBe("subflash/in/gw-1/command/c1");
    expect(t.commandResponse).toBe("subflash/gw-1/command/response");
    expect(t.commandResponseFor("c1")).toBe("subflash/gw-1/command/response/c1");
  });

  it("accepts a multi-level prefix", () => {
    expect(gatewayTopics("acme/ota", "gw").status).toBe("acme/ota/gw/status");
  });

  it("refuses names that would break topic levels or match wildcards", () => {
    expect(() => gatewayTopics("subflash", "gw/1")).toThrow(
      /gateway id "gw\/1" cannot be an MQTT topic level/,
    );
    expect(() => gatewayTopics("subflash", "gw+")).toThrow(/\[bad-topic\]/);
    expect(() => gatewayTopics("sub#", "gw")).toThrow(/prefix/);
    expect(() => gatewayTopics("subflash", "group")).toThrow(/reserved/);
    expect(() => gatewayTopics("subflash", "in")).toThrow(/reserved for input topics/);
    expect(() => t.moduleStatus("")).toThrow(/module name must not be empty/);
    expect(() => groupUpdateTopic("subflash", "a/b")).toThrow(/group name/);
    expect(() => assertCorrelationId("response")).toThrow(/must not be "response"/);
    expect(() => assertCorrelationId("x".repeat(129))).toThrow(/longer than 128/);
  });

  it("classifies inbound topics, including its own echoes", () => {
    const groups = ["lab", "eu"];
    expect(parseInboundTopic(t, groups, "subflash/in/gw-1/update")).toEqual({
      kind: "update",
      via: "gateway",
    });
    expect(parseInboundTopic(t, groups, "subflash/in/group/eu/update")).toEqual({
      kind: "update",
      via: "group",
      group: "eu",
    });
    expect(parseInboundTopic(t, groups, "subflash/in/group/us/update")).toEqual({ kind: "unknown" });
    expect(parseInboundTopic(t, groups, "subflash/in/gw-1/command")).toEqual({
      kind: "command",
      correlationId: null,
    });
    expect(parseInboundTopic(t, groups, "subflash/in/gw-1/command/abc")).toEqual({
      kind: "command",
      correlationId: "abc",
    });
    expect(parseInboundTopic(t, groups, "subflash/gw-1/command/response")).toEqual({ kind: "own" });
    expect(parseInboundTopic(t, groups, "subflash/gw-1/command/response/abc")).toEqual({ kind: "own" });
    expect(parseInboundTopic(t, groups, "subflash/gw-1/modules/power/status")).toEqual({ kind: "own" });
    expect(parseInboundTopic(t, groups, "subflash/in/gw-2/update")).toEqual({ kind: "unknown" });
    expect(parseInboundTopic(t, groups, "subflash/gw-1/update")).toEqual({ kind: "unknown" });
  });
});

describe("status topics for operators", () => {
  it("subscribes to one gateway or every gateway", () => {
    expect(statusFilters("subflash", "gw-1")).toEqual([
      "subflash/gw-1/online",
      "subflash/gw-1/status",
      "subflash/gw-1/modules/+/status",
    ]);
    expect(statusFilters("subflash", undefined, { events: true })).toContain("subflash/+/events");
  });

  it("parses what the filters match and nothing else", () => {
    expect(parseStatusTopic("subflash", "subflash/gw/online")).toEqual({ kind: "online", gateway: "gw" });
    expect(parseStatusTopic("subflash", "subflash/gw/status")).toEqual({
      kind: "gateway-status",
      gateway: "gw",
    });
    expect(parseStatusTopic("subflash", "subflash/gw/modules/m1/status")).toEqual({
      kind: "module-status",
      gateway: "gw",
      module: "m1",
    });
    expect(parseStatusTopic("subflash", "subflash/gw/events")).toEqual({ kind: "events", gateway: "gw" });
    expect(parseStatusTopic("subflash", "subflash/in/group/lab/update")).toBeNull();
    expect(parseStatusTopic("subflash", "subflash/in/gw/update")).toBeNull();
    expect(parseStatusTopic("subflash", "other/gw/status")).toBeNull();
    expect(parseStatusTopic("a/b", "a/b/gw/status")).toEqual({ kind: "gateway-status", gateway: "gw" });
  });
});
