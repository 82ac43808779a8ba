import { describe, expect, it } from "vitest";
import { encodeBundle } from "../../src/manifest/bundle.js";
import { signCommand } from "../../src/manifest/build.js";
import type { SignedCommand } from "../../src/manifest/types.js";
import { verifyBundle, verifyCommand, type CommandVerifyOptions } from "../../src/manifest/verify.js";
import {
  NOW,
  NOW_S,
  alice,
  gatewayOptions,
  mallory,
  rawSignedManifest,
  sampleRelease,
  trust,
} from "./fixtures.js";

const rollback: SignedCommand = {
  formatVersion: 1,
  kind: "rollback",
  gateway: "gw-001",
  sequence: 8,
  issuedAt: NOW_S - 10,
  expires: NOW_S + 600,
  module: "radio",
  bundle: { sequence: 42, release: "lab-2026.1" },
};

const options = (overrides: Partial<CommandVerifyOptions> = {}): CommandVerifyOptions => ({
  trust,
  gateway: { id: "gw-001" },
  state: { lastCommandSequence: 7 },
  now: NOW,
  ...overrides,
});

describe("signed commands", () => {
  it("are accepted by the gateway they are aimed at", () => {
    expect(verifyCommand(signCommand(rollback, [alice]), options())).toEqual({
      ok: true,
      command: rollback,
      signedBy: [alice.id],
    });
  });

  it("work for cancel and retry, without module or bundle", () => {
    for (const kind of ["cancel", "retry"] as const) {
      const { module: _m, bundle: _b, ...rest } = rollback;
      expect(verifyCommand(signCommand({ ...rest, kind }, [alice]), options())).toMatchObject({
        ok: true,
        command: { kind },
      });
    }
  });

  it("are refused by another gateway (not-for-this-gateway)", () => {
    expect(
      verifyCommand(signCommand(rollback, [alice]), options({ gateway: { id: "gw-002" } })),
    ).toMatchObject({
      ok: false,
      code: "not-for-this-gateway",
      message: expect.stringContaining("gw-002") as unknown,
    });
  });

  it("cannot be replayed: a sequence not above the last accepted command is refused (replayed)", () => {
    const bytes = signCommand(rollback, [alice]);
    expect(verifyCommand(bytes, options({ state: { lastCommandSequence: 8 } }))).toMatchObject({
      ok: false,
      code: "replayed",
    });
  });

  it("use their own sequence counter, apart from manifests", () => {
    const low = signCommand({ ...rollback, sequence: 1 }, [alice]);
    expect(verifyCommand(low, options({ state: { lastCommandSequence: 0 } })).ok).toBe(true);
  });

  it("expire (expired) and may not come from the future (not-yet-valid)", () => {
    expect(
      verifyCommand(
        signCommand({ ...rollback, issuedAt: NOW_S - 4000, expires: NOW_S - 3000 }, [alice]),
        options(),
      ),
    ).toMatchObject({ ok: false, code: "expired" });
    expect(
      verifyCommand(
        signCommand({ ...rollback, issuedAt: NOW_S + 4000, expires: NOW_S + 5000 }, [alice]),
        options(),
      ),
    ).toMatchObject({
      ok: false,
      code: "not-yet-valid",
    });
  });

  it("need a trusted signer (unknown-key)", () => {
    expect(verifyCommand(signCommand(rollback, [mallory]), options())).toMatchObject({
      ok: false,
      code: "unknown-key",
    });
  });

  it("are never taken for a manifest, nor a manifest for a command (wrong-content-type)", () => {
    const command = signCommand(rollback, [alice]);
    expect(
      verifyBundle(encodeBundle({ signedManifest: command, images: [] }), gatewayOptions()),
    ).toMatchObject({ ok: false, code: "wrong-content-type" });
    expect(verifyCommand(rawSignedManifest(sampleRelease().manifest), options())).toMatchObject({
      ok: false,
      code: "wrong-content-type",
    });
  });

  it("cannot be built with an expiry before issue or an unsafe gateway name", () => {
    expect(() => signCommand({ ...rollback, expires: rollback.issuedAt }, [alice])).toThrow(
      /command\.expires: must be after issuedAt/,
    );
    expect(() => signCommand({ ...rollback, gateway: "gw/+" }, [alice])).toThrow(/command\.gateway/);
  });
});
