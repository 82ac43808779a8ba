/**
 * Image downloads against a real HTTPS server (a self-signed certificate made with openssl for the
 * test): resume with Range after a cut connection, SHA-256 check before the image enters the store.
 */
import type { TransitionEvent } from "../../src/gateway/index.js";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fetchImage } from "../../src/gateway/store/download.js";
import { HaltGate } from "../../src/gateway/run/halt.js";
import { ImageStore } from "../../src/gateway/store/image-store.js";
import { createBundle } from "../../src/manifest/index.js";
import { sha256, toHex } from "../../src/signing/index.js";
import { Rig } from "./harness.js";

const image = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 31) & 0xff);
const digest = toHex(sha256(image));

let dir: string;
let server: Server;
let base: string;
let ca: Buffer;
/** Per request: the Range header received. */
const ranges: Array<string | undefined> = [];
/** Behaviour of the next requests. */
/** Bytes served at /fw.bin (the engine test serves a firmware image). */
let body: Uint8Array = image;
let mode: "ok" | "cut-first" | "wrong" | "endless" | "cut-then-no-range" = "ok";
let served = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "subflash-download-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  ca = readFileSync(join(dir, "cert.pem"));
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: ca }, (req, res) => {
    served++;
    const range = req.headers.range;
    ranges.push(range);
    if (mode === "wrong") {
      res.end(Buffer.from(image.map((b) => b ^ 1)));
      return;
    }
    if (mode === "endless") {
      res.end(Buffer.concat([Buffer.from(image), Buffer.alloc(10)]));
      return;
    }
    const from = range && mode !== "cut-then-no-range" ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    res.writeHead(from > 0 ? 206 : 200, { "content-length": String(body.length - from) });
    if ((mode === "cut-first" || mode === "cut-then-no-range") && served === 1) {
      res.write(Buffer.from(image.subarray(0, 20_000)), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(Buffer.from(body.subarray(from)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let store: ImageStore;
beforeEach(async () => {
  store = new ImageStore(mkdtempSync(join(dir, "state-")), new HaltGate());
  await store.init();
  ranges.length = 0;
  served = 0;
  mode = "ok";
  body = image;
});

describe("HTTPS image download", () => {
  it("downloads an image into the store after checking its SHA-256", async () => {
    await fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 1 });
    expect(await store.get(digest)).toEqual(image);
    // Already there: no second request.
    await fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 1 });
    expect(served).toBe(1);
  });

  it("resumes a cut transfer with a Range request from what it already has", async () => {
    mode = "cut-first";
    await fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 3 });
    expect(ranges).toEqual([undefined, "bytes=20000-"]);
    expect(await store.get(digest)).toEqual(image);
  });

  it("starts over when the server ignores Range", async () => {
    mode = "cut-then-no-range";
    await fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 3 });
    expect(ranges).toEqual([undefined, "bytes=20000-"]);
    expect(await store.get(digest)).toEqual(image);
  });

  it("refuses an image whose SHA-256 differs, or that is longer than announced", async () => {
    mode = "wrong";
    await expect(
      fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 2 }),
    ).rejects.toMatchObject({
      code: "download-failed",
      message: expect.stringMatching(/SHA-256 of .*fw\.bin/),
    });
    expect(await store.has(digest)).toBe(false);
    mode = "endless";
    await expect(
      fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { ca, attempts: 1 }),
    ).rejects.toThrow(/more than the 50000 bytes/);
  });

  it("refuses plain http and untrusted certificates", async () => {
    await expect(
      fetchImage(store, "http://127.0.0.1/fw.bin", { digest, size: 1 }, { attempts: 1 }),
    ).rejects.toMatchObject({ code: "download-failed" });
    await expect(
      fetchImage(store, `${base}/fw.bin`, { digest, size: image.length }, { attempts: 1 }),
    ).rejects.toThrow(/certificate/);
  });
});

describe("bundles with images by URL", () => {
  it("downloads the image before touching the module, then installs it", async () => {
    const rig = new Rig({ configure: (raw) => (raw.downloads = { ca: join(dir, "cert.pem") }) });
    try {
      const { manifest, images } = rig.manifest({ sequence: 1, modules: { power: { version: "2.0.0" } } });
      body = images[0]!;
      const slots = manifest.modules["power-board"]!.slots;
      if ("single" in slots) slots.single.source = { url: `${base}/fw.bin` };
      const engine = await rig.engine();
      expect(
        await engine.submitBundle(createBundle({ manifest, images: [], keys: [rig.key] })),
      ).toMatchObject({ ok: true });
      await engine.idle();
      expect(served).toBe(1);
      const states = rig.events
        .filter((e): e is TransitionEvent => e.type === "transition" && e.module === "power")
        .map((e) => e.to);
      expect(states.slice(0, 3)).toEqual(["queued", "downloading", "queued"]);
      expect(rig.statuses(engine).power).toMatchObject({ state: "committed", version: "2.0.0" });
      expect(rig.running("power").version).toBe("2.0.0");
    } finally {
      await rig.close();
    }
  });
});
