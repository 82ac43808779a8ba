import { describe, expect, it } from "vitest";
import { ReceiveQueue } from "../../../src/targets/transport/receive-queue.js";

const timeoutError = (got: number): Error => new Error(`timeout, ${got} buffered`);

describe("ReceiveQueue", () => {
  it("resolves a read immediately when the bytes are already there", async () => {
    const q = new ReceiveQueue();
    q.push(Uint8Array.of(1, 2, 3));
    expect(await q.read(2, 10, timeoutError)).toEqual(Uint8Array.of(1, 2));
    expect(q.size).toBe(1);
  });

  it("returns a view of the received chunk when one chunk holds the read (no copy)", async () => {
    const q = new ReceiveQueue();
    const chunk = Uint8Array.of(9, 8, 7, 6);
    q.push(chunk);
    const got = await q.read(3, 10, timeoutError);
    expect(got.buffer).toBe(chunk.buffer);
  });

  it("assembles a read from many chunks in arrival order", async () => {
    const q = new ReceiveQueue();
    const pending = q.read(6, 1000, timeoutError);
    q.push(Uint8Array.of(1));
    q.push(Uint8Array.of(2, 3));
    q.push(Uint8Array.of(4, 5, 6, 7));
    expect(await pending).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(await q.read(1, 10, timeoutError)).toEqual(Uint8Array.of(7));
    expect(q.size).toBe(0);
  });

  it("serves waiting reads first come, first served", async () => {
    const q = new ReceiveQueue();
    const first = q.read(2, 1000, timeoutError);
    const second = q.read(1, 1000, timeoutError);
    q.push(Uint8Array.of(1, 2, 3));
    expect(await first).toEqual(Uint8Array.of(1, 2));
    expect(await second).toEqual(Uint8Array.of(3));
  });

  it("rejects a read that times out and keeps the partial bytes for the next read", async () => {
    const q = new ReceiveQueue();
    q.push(Uint8Array.of(0x79));
    await expect(q.read(3, 20, timeoutError)).rejects.toThrow("timeout, 1 buffered");
    q.push(Uint8Array.of(0x1f));
    expect(await q.read(2, 10, timeoutError)).toEqual(Uint8Array.of(0x79, 0x1f));
  });

  it("lets a later read proceed once the read ahead of it timed out", async () => {
    const q = new ReceiveQueue();
    q.push(Uint8Array.of(5));
    const big = q.read(4, 10, timeoutError);
    const small = q.read(1, 1000, timeoutError);
    await expect(big).rejects.toThrow(/timeout/);
    expect(await small).toEqual(Uint8Array.of(5));
  });

  it("drops buffered bytes on discard while a waiting read keeps waiting", async () => {
    const q = new ReceiveQueue();
    q.push(Uint8Array.of(1, 2));
    const pending = q.read(3, 1000, timeoutError);
    q.discard();
    expect(q.size).toBe(0);
    q.push(Uint8Array.of(7, 8, 9));
    expect(await pending).toEqual(Uint8Array.of(7, 8, 9));
  });

  it("rejects waiting and later reads with the failure", async () => {
    const q = new ReceiveQueue();
    const pending = q.read(1, 1000, timeoutError);
    q.fail(new Error("closed"));
    await expect(pending).rejects.toThrow("closed");
    await expect(q.read(1, 1000, timeoutError)).rejects.toThrow("closed");
    q.push(Uint8Array.of(1));
    expect(q.size).toBe(0);
  });

  it("resolves zero-length reads at once and refuses negative lengths", async () => {
    const q = new ReceiveQueue();
    expect(await q.read(0, 10, timeoutError)).toHaveLength(0);
    await expect(q.read(-1, 10, timeoutError)).rejects.toThrow(RangeError);
  });

  it("keeps order across thousands of small chunks", async () => {
    const q = new ReceiveQueue();
    const reads: Promise<Uint8Array>[] = [];
    for (let i = 0; i < 50; i++) reads.push(q.read(100, 1000, timeoutError));
    for (let i = 0; i < 5000; i++) q.push(Uint8Array.of(i & 0xff));
    const all = (await Promise.all(reads)).flatMap((r) => Array.from(r));
    expect(all).toEqual(Array.from({ length: 5000 }, (_, i) => i & 0xff));
  });
});
