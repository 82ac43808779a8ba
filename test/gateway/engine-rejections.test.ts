/**
 * Every named refusal of the manifest layer, plus the engine's own plan refusal, leaves every module
 * untouched (no bootloader command at all, flash byte for byte the same) and is reported as an
 * event and in the gateway status.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpdateEngine } from "../../src/gateway/engine.js";
import { describeImage, encodeBundle, signManifest, type Manifest } from "../../src/manifest/index.js";
import { encodeManifestPayload } from "../../src/manifest/schema.js";
import { createSign1, HeaderLabel } from "../../src/signing/cose.js";
import { ContentType, sealEnvelope } from "../../src/signing/envelope.js";
import { createSigningKey, keyIdBytes, type TrustStore } from "../../src/signing/index.js";
import { Rig, GATEWAY, MODULES, MODULE_IDS } from "./harness.js";

let rig: Rig;
let engine: UpdateEngine;
/** Each case uses its own sequence so that "replayed" is only provoked on purpose. */
let sequence = 100;

beforeAll(async () => {
  rig = new Rig();
  engine = await rig.engine();
  // A committed bundle with security version 2 on the motor board, for the downgrade case.
  await engine.submitBundle(
    rig.bundle({ sequence: 10, modules: { motor: { version: "2.0.0", securityVersion: 2 } } }),
  );
  await engine.idle();
});
afterAll(async () => {
  await rig?.close();
});

const motorOnly = (extra: Partial<{ version: string; securityVersion: number; size: number }> = {}) => ({
  motor: { version: "3.0.0", securityVersion: 2, ...extra },
});

function seal(manifest: Manifest, images: Uint8Array[]): Uint8Array {
  return encodeBundle({
    signedManifest: sealEnvelope(encodeManifestPayload(manifest), ContentType.manifest, [rig.key]),
    images,
  });
}

type Case = [code: string, build: () => Uint8Array];

const cases: Case[] = [
  ["malformed-bundle", () => Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)],
  ["malformed-envelope", () => encodeBundle({ signedManifest: Uint8Array.of(1, 2, 3), images: [] })],
  [
    "unsupported-algorithm",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      const signed = createSign1({
        protectedHeader: new Map<number, unknown>([
          [HeaderLabel.alg, -7],
          [HeaderLabel.contentType, ContentType.manifest],
          [HeaderLabel.kid, keyIdBytes(rig.key.publicKey)],
        ]),
        payload: encodeManifestPayload(manifest),
        secretKey: rig.key.secretKey,
      });
      return encodeBundle({ signedManifest: signed, images });
    },
  ],
  [
    "unknown-key",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      return encodeBundle({ signedManifest: signManifest(manifest, [createSigningKey()]), images });
    },
  ],
  [
    "bad-signature",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      const signed = signManifest(manifest, [rig.key]);
      signed[signed.length - 1]! ^= 0x01; // the signature is the last bstr of the COSE_Sign1 array
      return encodeBundle({ signedManifest: signed, images });
    },
  ],
  ["wrong-content-type", () => encodeBundle({ signedManifest: rig.command("cancel"), images: [] })],
  [
    "bad-payload",
    () =>
      encodeBundle({
        signedManifest: sealEnvelope(Uint8Array.of(0xff, 0xff, 0xff), ContentType.manifest, [rig.key]),
        images: [],
      }),
  ],
  [
    "schema-violation",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      manifest.release = "";
      return seal(manifest, images);
    },
  ],
  [
    "not-for-this-gateway",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => (m.targets = { gateways: ["gw-other"], groups: ["line-9"] }),
      }),
  ],
  [
    "expired",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => {
          m.issuedAt -= 100_000;
          m.expires = m.issuedAt + 60;
        },
      }),
  ],
  [
    "not-yet-valid",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => ((m.issuedAt += 100_000), (m.expires += 200_000)),
      }),
  ],
  ["replayed", () => rig.bundle({ sequence: 10, modules: motorOnly() })],
  ["downgrade", () => rig.bundle({ sequence: ++sequence, modules: motorOnly({ securityVersion: 1 }) })],
  [
    "wrong-device",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => (m.modules["motor-board"]!.device.pid = 0x413),
      }),
  ],
  [
    "slot-mismatch",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => {
          const entry = m.modules["motor-board"]!;
          entry.slots = { single: "a" in entry.slots ? entry.slots.a : entry.slots.single };
        },
      }),
  ],
  // The power board is single-slot (A/B slots would overlap first, which the schema refuses).
  [
    "image-too-large",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: { power: { version: "3.0.0", size: MODULES.power.layout.slot.size + 512 } },
      }),
  ],
  [
    "outside-slot",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: { power: { version: "3.0.0" } },
        tweak: (m) => {
          const slots = m.modules["power-board"]!.slots;
          if ("single" in slots)
            slots.single.address = MODULES.power.layout.slot.address + MODULES.power.layout.slot.size - 256;
        },
      }),
  ],
  [
    "dependency-unsatisfied",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) =>
          m.modules["motor-board"]!.dependsOn.push({ moduleType: "power-board", minVersion: "9.0.0" }),
      }),
  ],
  [
    "dependency-cycle",
    () => {
      const { manifest, images } = rig.manifest({
        sequence: ++sequence,
        modules: { motor: { version: "3.0.0", securityVersion: 2 }, radio: { version: "3.0.0" } },
      });
      manifest.modules["motor-board"]!.dependsOn.push({ moduleType: "radio-board", minVersion: "1.0.0" });
      manifest.modules["radio-board"]!.dependsOn.push({ moduleType: "motor-board", minVersion: "1.0.0" });
      return seal(manifest, images);
    },
  ],
  [
    "dependency-order",
    () => {
      const { manifest, images } = rig.manifest({
        sequence: ++sequence,
        modules: { motor: { version: "3.0.0", securityVersion: 2 }, radio: { version: "3.0.0" } },
      });
      manifest.modules["motor-board"]!.dependsOn.push({ moduleType: "radio-board", minVersion: "1.0.0" });
      return seal(manifest, images);
    },
  ],
  [
    "bundle-mismatch",
    () => {
      const { manifest } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      return encodeBundle({ signedManifest: signManifest(manifest, [rig.key]), images: [] });
    },
  ],
  [
    "size-mismatch",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      return encodeBundle({
        signedManifest: signManifest(manifest, [rig.key]),
        images: [images[0]!.subarray(0, 1000)],
      });
    },
  ],
  [
    "digest-mismatch",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      const tampered = images[0]!.slice();
      tampered[500]! ^= 0x40;
      return encodeBundle({ signedManifest: signManifest(manifest, [rig.key]), images: [tampered] });
    },
  ],
  [
    "crc-mismatch",
    () => {
      const { manifest, images } = rig.manifest({ sequence: ++sequence, modules: motorOnly() });
      const slots = manifest.modules["motor-board"]!.slots;
      if ("a" in slots)
        slots.a = {
          ...describeImage(images[0]!, { address: slots.a.address, source: { inline: 0 } }),
          crc32: 0x12345678,
        };
      return encodeBundle({ signedManifest: signManifest(manifest, [rig.key]), images });
    },
  ],
  // The engine's own plan check: a release for module types this gateway does not have.
  [
    "not-applicable",
    () =>
      rig.bundle({
        sequence: ++sequence,
        modules: motorOnly(),
        tweak: (m) => {
          m.modules["sensor-board"] = m.modules["motor-board"]!;
          delete m.modules["motor-board"];
        },
      }),
  ],
];

function fingerprint(): Record<string, { flash: string; commands: string }> {
  return Object.fromEntries(
    MODULE_IDS.map((id) => {
      const sim = rig.sims.get(id)!;
      const flash = createHash("sha256")
        .update(sim.memory.read(sim.device.flash.start, sim.device.flash.end - sim.device.flash.start))
        .digest("hex");
      return [id, { flash, commands: JSON.stringify(sim.stats.commands) }];
    }),
  );
}

describe("bundle refusals", () => {
  it.each(cases)("refuses %s without touching any module", async (code, build) => {
    const before = fingerprint();
    const statesBefore = engine.moduleStatuses().map((s) => s.state);
    const events = rig.events.length;
    const outcome = await engine.submitBundle(build(), { topic: `subflash/${GATEWAY}/update` });
    await engine.idle();
    expect(outcome).toMatchObject({ ok: false, status: "rejected", code });
    expect(fingerprint()).toEqual(before);
    expect(engine.moduleStatuses().map((s) => s.state)).toEqual(statesBefore);
    const rejected = rig.events.slice(events).filter((e) => e.type === "rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.error?.code).toBe(code);
    expect(engine.gatewayStatus().lastRejected).toMatchObject({
      error: { code },
      topic: `subflash/${GATEWAY}/update`,
    });
    // The gateway status keeps showing the last bundle that ran; the refusal is beside it.
    expect(engine.gatewayStatus().bundle).toMatchObject({
      release: "release-10",
      sequence: 10,
      state: "committed",
      error: null,
    });
  });

  it("names the release of a bundle refused after its signature was verified, and not of one refused before", async () => {
    const replay = await engine.submitBundle(rig.bundle({ sequence: 10, modules: motorOnly() }));
    expect(replay).toMatchObject({ ok: false, code: "replayed", release: "release-10", sequence: 10 });
    expect(engine.gatewayStatus().lastRejected).toMatchObject({
      release: "release-10",
      sequence: 10,
      error: { code: "replayed" },
    });
    expect(rig.events.at(-1)).toMatchObject({ type: "rejected", release: "release-10", sequence: 10 });

    const forged = cases.find(([code]) => code === "bad-signature")![1]();
    expect(await engine.submitBundle(forged)).toMatchObject({
      ok: false,
      code: "bad-signature",
      release: null,
      sequence: null,
    });
    expect(engine.gatewayStatus().lastRejected).toMatchObject({
      release: null,
      sequence: null,
      error: { code: "bad-signature" },
    });
    expect(engine.gatewayStatus().bundle).toMatchObject({ release: "release-10", state: "committed" });
  });

  it("refuses key-not-valid and below-threshold against the trust store", async () => {
    const other = createSigningKey();
    const expired: TrustStore = {
      threshold: 1,
      keys: [{ id: rig.key.id, publicKey: rig.key.publicKey, notAfter: new Date(Date.now() - 60_000) }],
    };
    const twoOfTwo: TrustStore = {
      threshold: 2,
      keys: [
        { id: rig.key.id, publicKey: rig.key.publicKey },
        { id: other.id, publicKey: other.publicKey },
      ],
    };
    for (const [trust, code] of [
      [expired, "key-not-valid"],
      [twoOfTwo, "below-threshold"],
    ] as const) {
      const strict = await rig.engine({ trust });
      const before = fingerprint();
      const outcome = await strict.submitBundle(rig.bundle({ sequence: ++sequence, modules: motorOnly() }));
      expect(outcome).toMatchObject({ ok: false, code });
      expect(fingerprint()).toEqual(before);
      await strict.stop();
    }
  });
});
