import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ManifestError } from "../../src/manifest/errors.js";
import { buildRelease } from "../../src/manifest/release.js";
import { readReleaseSpec, resolveExpiry } from "../../src/manifest/release-spec.js";
import type { AbSlots, SingleSlot } from "../../src/manifest/types.js";
import { verifyBundle } from "../../src/manifest/verify.js";
import { sha256 } from "../../src/util/digest.js";
import { writeElf } from "../targets/image/elf-writer.js";
import { NOW, NOW_S, alice, gatewayOptions, pattern } from "./fixtures.js";

/** One Intel HEX record line. */
function record(type: number, address: number, data: readonly number[]): string {
  const bytes = [data.length, (address >> 8) & 0xff, address & 0xff, type, ...data];
  const checksum = (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
  return `:${[...bytes, checksum].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("")}`;
}

let dir: string;
const powerBin = pattern(1000, 4);
const radioA = { first: pattern(16, 5), second: pattern(8, 6) }; // at 0x08020000 and 0x08020020: a 16-byte gap
const radioB = pattern(300, 7);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "subflash-release-"));
  await writeFile(join(dir, "power.bin"), powerBin);
  await writeFile(join(dir, "power-copy.bin"), powerBin);
  const hex = [
    record(4, 0, [0x08, 0x02]),
    record(0, 0x0000, [...radioA.first]),
    record(0, 0x0020, [...radioA.second]),
    record(1, 0, []),
  ].join("\n");
  await writeFile(join(dir, "radio-a.hex"), `${hex}\n`);
  await writeFile(join(dir, "radio-b.elf"), writeElf([{ paddr: 0x08080000, data: radioB }]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const baseSpec = () => ({
  release: "lab-2026.2",
  targets: { gateways: ["gw-001"] },
  modules: {
    power: {
      version: "2.1.0",
      securityVersion: 1,
      device: "g071",
      slots: { single: { file: "power.bin", address: 0x08000000 } },
    },
    radio: {
      version: "1.5.0",
      device: 0x413,
      dependsOn: { power: "2.0.0" },
      slots: { a: { file: "radio-a.hex" }, b: { file: "radio-b.elf" } },
    },
  },
});

async function specFile(spec: unknown, name = "spec.yaml"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(spec));
  return path;
}

async function expectSpecError(spec: unknown, code: string, message: RegExp): Promise<void> {
  const path = await specFile(spec, `bad-${Math.random().toString(36).slice(2)}.yaml`);
  const attempt = readReleaseSpec(path).then((s) => buildRelease(s, { keys: [alice], now: NOW }));
  await expect(attempt).rejects.toBeInstanceOf(ManifestError);
  await expect(attempt).rejects.toMatchObject({ code, message: expect.stringMatching(message) as unknown });
}

describe("buildRelease", () => {
  it("builds a bundle from .bin, .hex and .elf images that the gateway accepts", async () => {
    const spec = await readReleaseSpec(await specFile(baseSpec()));
    const built = await buildRelease(spec, { keys: [alice], now: NOW });
    const power = (built.manifest.modules.power!.slots as SingleSlot).single;
    const radio = built.manifest.modules.radio!.slots as AbSlots;
    expect(built.manifest.modules.power!.device.pid).toBe(0x460);
    expect(power).toMatchObject({ address: 0x08000000, size: 1000, source: { inline: 0 } });
    expect(radio.a).toMatchObject({ address: 0x08020000, size: 0x28 });
    expect(radio.b).toMatchObject({ address: 0x08080000, size: 300 });
    const flatA = Uint8Array.from([...radioA.first, ...new Uint8Array(16).fill(0xff), ...radioA.second]);
    expect(Buffer.from(radio.a.sha256).equals(Buffer.from(sha256(flatA)))).toBe(true);
    const outcome = verifyBundle(
      built.bundle,
      gatewayOptions({ state: { lastSequence: 0, securityFloors: {}, installedVersions: {} } }),
    );
    expect(outcome.ok).toBe(true);
  });

  it("orders a module after the modules it depends on when the spec gives no order", async () => {
    const built = await buildRelease(await readReleaseSpec(await specFile(baseSpec())), {
      keys: [alice],
      now: NOW,
    });
    expect(built.manifest.modules.power!.order).toBe(0);
    expect(built.manifest.modules.radio!.order).toBe(1);
  });

  it("defaults sequence to the time in milliseconds, issue to now and expiry to 30 days, and lets options override them", async () => {
    const spec = await readReleaseSpec(await specFile(baseSpec()));
    const defaults = await buildRelease(spec, { keys: [alice], now: NOW });
    expect(defaults.manifest).toMatchObject({
      sequence: NOW.getTime(),
      issuedAt: NOW_S,
      expires: NOW_S + 30 * 86400,
    });
    const chosen = await buildRelease(spec, {
      keys: [alice],
      now: NOW,
      sequence: 7,
      expires: "12h",
      issuedAt: new Date("2026-01-01T00:00:00Z"),
    });
    expect(chosen.manifest).toMatchObject({
      sequence: 7,
      issuedAt: 1767225600,
      expires: 1767225600 + 12 * 3600,
    });
  });

  it("carries identical images once, and URL images not at all", async () => {
    const spec = baseSpec();
    spec.modules.radio.slots = {
      a: { file: "power.bin", address: 0x08020000 },
      b: { file: "power-copy.bin", address: 0x08080000 },
    } as never;
    (spec.modules.power.slots.single as Record<string, unknown>).url =
      "https://cdn.example.com/power-2.1.0.bin";
    const built = await buildRelease(await readReleaseSpec(await specFile(spec, "dedupe.yaml")), {
      keys: [alice],
      now: NOW,
    });
    expect(built.images).toHaveLength(1);
    expect((built.manifest.modules.power!.slots as SingleSlot).single.source).toEqual({
      url: "https://cdn.example.com/power-2.1.0.bin",
    });
    expect((built.manifest.modules.radio!.slots as AbSlots).b.source).toEqual({ inline: 0 });
  });
});

describe("release spec problems are named", () => {
  it("a raw binary without its load address", async () => {
    const spec = baseSpec();
    delete (spec.modules.power.slots.single as { address?: number }).address;
    await expectSpecError(
      spec,
      "bad-spec",
      /module power slot single: .*power\.bin is a raw binary; give its load address/,
    );
  });

  it("a HEX file whose address differs from the spec", async () => {
    const spec = baseSpec();
    (spec.modules.radio.slots.a as Record<string, unknown>).address = 0x08030000;
    await expectSpecError(
      spec,
      "bad-spec",
      /module radio slot a: .*starts at 0x08020000, not at the address 0x08030000/,
    );
  });

  it("an image file that does not exist", async () => {
    const spec = baseSpec();
    spec.modules.radio.slots.b.file = "missing.elf";
    await expectSpecError(
      spec,
      "image-unreadable",
      /module radio slot b: cannot read firmware file .*missing\.elf: no such file/,
    );
  });

  it("fields of the wrong form, by path, all at once", async () => {
    const spec = { ...baseSpec(), targets: { gateways: ["gw/1"] }, policy: { atomicity: "most" } };
    (spec.modules.radio as Record<string, unknown>).version = "one";
    const path = await specFile(spec, "wrong-fields.yaml");
    const error = await readReleaseSpec(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "bad-spec" });
    for (const field of ["targets.gateways.0", "policy.atomicity", "modules.radio.version"])
      expect((error as Error).message).toContain(field);
  });

  it("an unknown part name", async () => {
    const spec = baseSpec();
    spec.modules.power.device = "f999";
    await expectSpecError(spec, "bad-spec", /modules\.power\.device: unknown device "f999"/);
  });

  it("an expiry that is neither a duration nor a date", async () => {
    await expectSpecError({ ...baseSpec(), expires: "soon" }, "bad-spec", /expires "soon"/);
  });

  it("a spec that is not YAML", async () => {
    const path = join(dir, "broken.yaml");
    await writeFile(path, "release: [unclosed");
    await expect(readReleaseSpec(path)).rejects.toMatchObject({ code: "spec-unreadable" });
  });
});

describe("resolveExpiry", () => {
  it("reads durations and ISO-8601 instants", () => {
    expect(resolveExpiry("90m", 1000)).toBe(1000 + 5400);
    expect(resolveExpiry("2w", 0)).toBe(14 * 86400);
    expect(resolveExpiry("2026-04-01T00:00:00Z", 0)).toBe(1775001600);
    expect(resolveExpiry("tomorrow", 0)).toBeUndefined();
  });
});
