/**
 * How long a gateway takes to verify a bundle carrying a 1 MiB image (target: under 20 ms), and
 * what the parts cost. Run with `npm run bench:verify`. Prints; asserts nothing.
 */
import { randomBytes } from "node:crypto";
import { createBundle, describeImage, verifyBundle, type Manifest } from "../src/manifest/index.js";
import { createSigningKey, crc32, sha256, stm32Crc, type TrustStore } from "../src/signing/index.js";
import { decodeBundle } from "../src/manifest/bundle.js";
import { openEnvelope, ContentType } from "../src/signing/envelope.js";

const MiB = 1024 * 1024;
const RUNS = 60;
const WARMUP = 10;

function measure(label: string, run: () => unknown): void {
  for (let i = 0; i < WARMUP; i++) run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): string =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  const mean = (times.reduce((a, b) => a + b, 0) / times.length).toFixed(2);
  console.log(
    `${label.padEnd(44)} median ${at(0.5).padStart(7)} ms   p95 ${at(0.95).padStart(7)} ms   mean ${mean.padStart(7)} ms`,
  );
}

const key = createSigningKey({ label: "bench" });
const trust: TrustStore = { threshold: 1, keys: [{ id: key.id, publicKey: key.publicKey }] };
const image = new Uint8Array(randomBytes(MiB));
const now = new Date();
const issuedAt = Math.floor(now.getTime() / 1000);
const manifest: Manifest = {
  formatVersion: 1,
  sequence: 2,
  issuedAt,
  expires: issuedAt + 3600,
  targets: { gateways: ["gw-bench"], groups: [] },
  release: "bench",
  policy: { atomicity: "all-or-nothing", parallelism: 1 },
  modules: {
    app: {
      version: "1.0.0",
      securityVersion: 1,
      slots: { single: describeImage(image, { address: 0x08000000, source: { inline: 0 } }) },
      order: 0,
      dependsOn: [],
      device: { pid: 0x413 },
    },
  },
};
const bundle = createBundle({ manifest, images: [image], keys: [key] });
const options = {
  trust,
  gateway: { id: "gw-bench", groups: [] },
  state: { lastSequence: 1, securityFloors: {}, installedVersions: {} },
  now,
};

const check = verifyBundle(bundle, options);
if (!check.ok) throw new Error(`bench bundle refused: ${check.code} ${check.message}`);

console.log(
  `subflash verify benchmark: bundle of ${bundle.length} bytes (1 MiB image), ${RUNS} runs after ${WARMUP} warm-up, node ${process.version}`,
);
measure("verifyBundle (everything)", () => verifyBundle(bundle, options));
const parts = decodeBundle(bundle);
if (!parts.ok) throw new Error(parts.reason);
measure("  bundle decode (CBOR + deterministic check)", () => decodeBundle(bundle));
measure("  signature (envelope, 1 Ed25519 verify)", () =>
  openEnvelope(parts.parts.signedManifest, { trust, contentType: ContentType.manifest, now }),
);
measure("  SHA-256 of 1 MiB", () => sha256(image));
measure("  CRC-32 of 1 MiB (zlib)", () => crc32(image));
measure("  STM32 CRC of 1 MiB", () => stm32Crc(image));
const k64 = image.subarray(0, 64 * 1024);
measure("STM32 CRC of 64 KiB", () => stm32Crc(k64));
