import { describe, expect, it } from "vitest";
import { createBundle, signManifest } from "../../src/manifest/build.js";
import { ManifestError } from "../../src/manifest/errors.js";
import type { Manifest } from "../../src/manifest/types.js";
import { alice, bob, sampleRelease } from "./fixtures.js";

const release = sampleRelease();
const changed = (edit: (m: Manifest) => void): Manifest => {
  const copy = structuredClone(release.manifest);
  edit(copy);
  return copy;
};

function expectInvalid(build: () => unknown, message: RegExp): void {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).code).toBe("invalid-manifest");
    expect((error as ManifestError).message).toMatch(message);
    return;
  }
  throw new Error("built anyway");
}

describe("builders refuse to sign what a gateway would refuse", () => {
  it("a manifest that breaks the schema", () => {
    expectInvalid(
      () =>
        signManifest(
          changed((m) => (m.release = "")),
          [alice],
        ),
      /manifest\.release/,
    );
    expectInvalid(
      () =>
        signManifest(
          changed((m) => (m.modules.radio!.version = "v1")),
          [alice],
        ),
      /modules\.radio\.version/,
    );
  });

  it("a manifest with a dependency cycle or order conflict", () => {
    expectInvalid(
      () =>
        signManifest(
          changed((m) => m.modules.power!.dependsOn.push({ moduleType: "radio", minVersion: "1.0.0" })),
          [alice],
        ),
      /cycle/,
    );
    expectInvalid(
      () =>
        signManifest(
          changed((m) => (m.modules.power!.order = 5)),
          [alice],
        ),
      /strictly first/,
    );
  });

  it("a bundle whose images do not match, are missing, or are not named", () => {
    const images = release.images.map((i) => Uint8Array.from(i));
    images[2]![0]! ^= 1;
    expectInvalid(
      () => createBundle({ manifest: release.manifest, images, keys: [alice] }),
      /module radio slot b: SHA-256/,
    );
    expectInvalid(
      () => createBundle({ manifest: release.manifest, images: release.images.slice(0, 1), keys: [alice] }),
      /inline image #1 not supplied/,
    );
    expectInvalid(
      () =>
        createBundle({
          manifest: release.manifest,
          images: [...release.images, Uint8Array.of(0)],
          keys: [alice],
        }),
      /not named by any slot/,
    );
  });

  it("produce the same bundle bytes for the same inputs (Ed25519 is deterministic)", () => {
    const a = createBundle({ ...release, keys: [alice, bob] });
    const b = createBundle({ ...sampleRelease(), keys: [alice, bob] });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});
