/**
 * The examples in contrib/ stay true: the Grafana dashboard only queries metrics the gateway
 * exports, and the Node-RED flow is a well-formed flow that listens to JSON status topics only.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../src/http/index.js";
import type { MetricsEngine } from "../../src/http/index.js";

const idleEngine: MetricsEngine = { on: () => undefined, off: () => undefined, moduleStatuses: () => [] };

describe("contrib examples", () => {
  it("Grafana dashboard queries only metrics the registry exports", async () => {
    const dashboard = JSON.parse(readFileSync("contrib/grafana/subflash-dashboard.json", "utf8")) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const metrics = new GatewayMetrics({ engine: idleEngine, defaults: false });
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set<string>();
    for (const panel of dashboard.panels)
      for (const target of panel.targets)
        for (const name of target.expr.match(/subflash_[a-z_]+/g) ?? [])
          used.add(name.replace(/_(bucket|sum|count)$/, ""));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(exported, name).toContain(name);
  });

  it("Node-RED flow wires only to its own nodes and subscribes to JSON topics, never the binary inputs", () => {
    const flow = JSON.parse(readFileSync("contrib/node-red/subflash-flow.json", "utf8")) as Array<{
      id: string;
      type: string;
      topic?: string;
      wires?: string[][];
      broker?: string;
    }>;
    const ids = new Set(flow.map((n) => n.id));
    expect(ids.size).toBe(flow.length);
    for (const node of flow)
      for (const out of node.wires ?? []) for (const to of out) expect(ids).toContain(to);
    const inputs = flow.filter((n) => n.type === "mqtt in");
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) {
      expect(ids).toContain(input.broker);
      expect(input.topic).not.toMatch(/(^|\/)in(\/|$)|#/);
    }
  });
});
