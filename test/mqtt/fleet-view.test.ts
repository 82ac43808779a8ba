import { describe, expect, it } from "vitest";
import { FleetView } from "../../src/mqtt/operator/fleet-view.js";
import { renderStatusTable } from "../../src/mqtt/operator/status-table.js";
import { moduleStatus } from "./fake-engine.js";

const bytes = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

describe("fleet view", () => {
  it("collects online flag, gateway summary and module statuses per gateway", () => {
    const view = new FleetView("subflash");
    view.apply("subflash/gw-1/online", bytes("online"));
    view.apply("subflash/gw-1/status", bytes({ gateway: "gw-1", seq: 1, bundle: null }));
    view.apply("subflash/gw-1/modules/power/status", bytes(moduleStatus("power", {})));
    view.apply("subflash/gw-2/online", bytes("offline"));
    expect(view.gateways().map((g) => [g.gateway, g.online, g.modules.size])).toEqual([
      ["gw-1", true, 1],
      ["gw-2", false, 0],
    ]);
  });

  it("still reads the true/false online payloads of gateways from before online/offline", () => {
    const view = new FleetView("subflash");
    view.apply("subflash/old/online", bytes("true"));
    view.apply("subflash/older/online", bytes("false"));
    expect(view.gateway("old")!.online).toBe(true);
    expect(view.gateway("older")!.online).toBe(false);
  });

  it("drops a module status older than the one it holds, and forgets a cleared one", () => {
    const view = new FleetView("subflash");
    const topic = "subflash/gw/modules/m/status";
    view.apply(
      topic,
      bytes(moduleStatus("m", { state: "writing", seq: 5, updatedAt: "2030-01-01T00:00:05Z" })),
    );
    expect(
      view.apply(
        topic,
        bytes(moduleStatus("m", { state: "idle", seq: 4, updatedAt: "2030-01-01T00:00:04Z" })),
      ),
    ).toBeNull();
    expect(view.gateway("gw")!.modules.get("m")!.state).toBe("writing");
    // A restarted gateway may count from 1 again; its newer time wins.
    view.apply(
      topic,
      bytes(moduleStatus("m", { state: "committed", seq: 1, updatedAt: "2030-01-01T00:01:00Z" })),
    );
    expect(view.gateway("gw")!.modules.get("m")!.state).toBe("committed");
    view.apply(topic, new Uint8Array(0));
    expect(view.gateway("gw")!.modules.size).toBe(0);
  });

  it("records payloads that break the contract as problems instead of throwing", () => {
    const view = new FleetView("subflash");
    expect(view.apply("subflash/gw/online", bytes("yes"))).toBeNull();
    expect(view.apply("subflash/gw/modules/m/status", bytes({ module: "m" }))).toBeNull();
    expect(view.apply("subflash/gw/status", bytes("{not json"))).toBeNull();
    expect(view.problems).toHaveLength(3);
    expect(view.problems[0]).toMatch(/subflash\/gw\/online: expected "online" or "offline"/);
    expect(view.problems[1]).toMatch(/subflash\/gw\/modules\/m\/status: .*state/);
  });
});

describe("status table", () => {
  it("shows each module's state, versions, slot, progress, time left and error code", () => {
    const view = new FleetView("subflash");
    view.apply("subflash/gw-1/online", bytes("online"));
    view.apply(
      "subflash/gw-1/status",
      bytes({
        gateway: "gw-1",
        seq: 3,
        bundle: { release: "r2", sequence: 2, state: "running", error: null },
      }),
    );
    view.apply(
      "subflash/gw-1/modules/radio/status",
      bytes(
        moduleStatus("radio", {
          state: "writing",
          version: "1.0.0",
          targetVersion: "2.0.0",
          activeSlot: "a",
          progress: { phase: "write", done: 16384, total: 32768, percent: 50 },
          remainingSeconds: 3.4,
        }),
      ),
    );
    view.apply(
      "subflash/gw-1/modules/power/status",
      bytes(
        moduleStatus("power", {
          state: "failed",
          activeSlot: "single",
          verification: "crc",
          lastError: { code: "health-check-failed", message: "x" },
        }),
      ),
    );
    const table = renderStatusTable(view.gateways());
    expect(table).toContain("gateway gw-1  online  bundle r2 #2 running");
    const lines = table.split("\n");
    const radio = lines.find((l) => l.trim().startsWith("radio"))!;
    expect(radio).toMatch(
      /radio\s+radio-type\s+writing\s+1\.0\.0 → 2\.0\.0\s+a\s+-\s+write\s+50% █████·····\s+3s\s+-/,
    );
    const power = lines.find((l) => l.trim().startsWith("power"))!;
    expect(power).toMatch(/failed .* single\s+crc .* health-check-failed$/);
    expect(lines[1]).toMatch(/^\s+MODULE\s+TYPE\s+STATE\s+VERSION\s+SLOT\s+VERIFIED\s+PROGRESS/);
    // Sorted by module name.
    expect(lines.indexOf(power)).toBeLessThan(lines.indexOf(radio));
  });

  it("shows the last refusal beside the last bundle that ran, naming the release only once it was verified", () => {
    const view = new FleetView("subflash");
    const status = (lastRejected: unknown): void =>
      void view.apply(
        "subflash/gw-1/status",
        bytes({
          gateway: "gw-1",
          seq: 1,
          bundle: { release: "r3", sequence: 3, state: "committed", error: null },
          lastRejected,
        }),
      );
    status({
      release: "r1",
      sequence: 1,
      error: { code: "replayed", message: "x" },
      topic: null,
      at: "2030-01-01T00:00:00Z",
    });
    const replay = renderStatusTable(view.gateways()).split("\n");
    expect(replay[0]).toBe("gateway gw-1  online ?  bundle r3 #3 committed");
    expect(replay[1]).toBe("    refused  bundle r1 #1 rejected: replayed");
    status({
      release: null,
      sequence: null,
      error: { code: "bad-signature", message: "x" },
      topic: null,
      at: "2030-01-01T00:00:01Z",
    });
    expect(renderStatusTable(view.gateways()).split("\n")[1]).toBe(
      "    refused  bundle (unverified) rejected: bad-signature",
    );
    status(null);
    expect(renderStatusTable(view.gateways())).not.toContain("refused");
  });

  it("puts a state alert (every bundle refused until acknowledged) above the modules", () => {
    const view = new FleetView("subflash");
    view.apply(
      "subflash/gw-1/status",
      bytes({
        gateway: "gw-1",
        seq: 1,
        bundle: null,
        stateAlert: { code: "state-disagrees", message: "state.json and floors.json disagree" },
      }),
    );
    expect(renderStatusTable(view.gateways()).split("\n")[1]).toBe(
      "    REFUSING BUNDLES  state-disagrees: state.json and floors.json disagree",
    );
  });

  it("says so when nothing is retained", () => {
    expect(renderStatusTable([])).toMatch(/no gateway status found/);
  });
});
