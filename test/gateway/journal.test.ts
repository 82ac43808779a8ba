import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { ImageStore } from "../../src/gateway/store/image-store.js";
import { Journal } from "../../src/gateway/store/journal.js";
import type { RunRecord } from "../../src/gateway/run/types.js";
import { StateStore } from "../../src/gateway/store/state-store.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "subflash-journal-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (id: string): RunRecord => ({
  format: 1,
  id,
  kind: "bundle",
  release: "r1",
  sequence: 1,
  bundleDigest: null,
  expiresAt: null,
  allOrNothing: true,
  maxParallel: 1,
  state: "running",
  outcome: "running",
  cancelRequested: false,
  jobs: [],
  commitOrder: [],
  firstError: null,
  note: null,
  startedAt: new Date(0).toISOString(),
  finishedAt: null,
});

describe("journal and state store", () => {
  it("journals a snapshot durably and reads it back; later changes do not leak in", async () => {
    const journal = new Journal(dir, new HaltGate());
    const record = run("a");
    await journal.write(record, "first");
    record.state = "rolling-back";
    expect((await new Journal(dir, new HaltGate()).load())?.state).toBe("running");
    await journal.write(record, "second");
    expect((await new Journal(dir, new HaltGate()).load())?.state).toBe("rolling-back");
    expect(journal.writes).toBe(2);
  });

  it("keeps the last complete journal when a writer is killed before its rename, and cleans its leftovers", async () => {
    const gate = new HaltGate();
    const seen: string[] = [];
    const journal = new Journal(dir, gate, ({ what }) => {
      seen.push(what);
    });
    await journal.write(run("old"), "old");
    gate.halt();
    let settled = false;
    void journal.write(run("new"), "new").then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    expect(seen).toEqual(["old"]);
    writeFileSync(join(dir, "journal.json.tmp-1-1"), "{ half a fil");
    expect((await new Journal(dir, new HaltGate()).load())?.id).toBe("old");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("refuses a journal or state file that is not its own, naming the file", async () => {
    writeFileSync(join(dir, "journal.json"), JSON.stringify({ hello: 1 }));
    await expect(new Journal(dir, new HaltGate()).load()).rejects.toMatchObject({
      code: "state-corrupt",
      message: expect.stringContaining("journal.json"),
    });
    writeFileSync(join(dir, "state.json"), "not json");
    await expect(StateStore.open(dir, new HaltGate())).rejects.toMatchObject({ code: "state-corrupt" });
  });

  it("changes the in-memory state only once the new state is on disk", async () => {
    const store = await StateStore.open(dir, new HaltGate());
    await store.update((draft) => {
      draft.lastSequence = 5;
      draft.securityFloors.radio = 2;
    });
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8"))).toMatchObject({
      lastSequence: 5,
      securityFloors: { radio: 2 },
    });
    await expect(
      store.update(() => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(store.get().lastSequence).toBe(5);
    expect((await StateStore.open(dir, new HaltGate())).get()).toMatchObject({
      lastSequence: 5,
      lastCommandSequence: 0,
    });
  });

  it("stores images by SHA-256, checks them when read, and prunes what is not kept", async () => {
    const images = new ImageStore(dir, new HaltGate());
    await images.init();
    const a = await images.put(Uint8Array.of(1, 2, 3));
    const b = await images.put(Uint8Array.of(4, 5, 6));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await images.get(a)).toEqual(Uint8Array.of(1, 2, 3));
    writeFileSync(images.pathOf(b), Uint8Array.of(9, 9, 9));
    await expect(images.get(b, { module: "radio" })).rejects.toMatchObject({
      code: "image-unavailable",
      context: { module: "radio" },
    });
    expect(await images.prune(new Set([a]))).toBe(0);
    expect(await images.has(a)).toBe(true);
    await images.put(Uint8Array.of(7));
    expect(await images.prune(new Set())).toBe(2);
  });
});
