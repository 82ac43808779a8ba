/**
 * The CBOR layout of manifests and commands: every field's integer key, type and limits, in one
 * place (mirrored by the CDDL in docs/manifest.md; keys are stable and never reused). Records use
 * small integer keys; maps keyed by names (module types, slots) use the names.
 */
import { decodeCbor, encodeCbor } from "../signing/index.js";
import {
  SchemaViolation,
  bytes,
  int,
  list,
  nameMap,
  oneOf,
  struct,
  text,
  uint,
  violation,
  type Codec,
} from "./codec.js";
import {
  FORMAT_VERSION,
  type BundlePolicy,
  type BundleRef,
  type Dependency,
  type ImageSource,
  type Manifest,
  type ReleaseNotes,
  type ModuleEntry,
  type ModuleSlots,
  type SignedCommand,
  type SlotImage,
  type Targets,
  slotEntries,
} from "./types.js";
import { VERSION_PATTERN } from "./version.js";

/** Gateway ids, group names and module types: safe in MQTT topics and file names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Images a bundle may carry inline. */
export const MAX_BUNDLE_IMAGES = 128;
export const MAX_MODULES = 64;
const MAX_TARGETS = 1024;
const MAX_DEPENDENCIES = 32;
const UINT32_MAX = 0xffffffff;

const name = text({
  maxLength: 64,
  pattern: NAME_PATTERN,
  expected: "a name of letters, digits, '.', '_' or '-' (max 64)",
});
const version = text({
  maxLength: 64,
  pattern: VERSION_PATTERN,
  expected: "a version such as 1.4.2 or 2.0.0-rc.1",
});
const printable = text({ maxLength: 128, pattern: /^[^\p{Cc}]+$/u, expected: "printable text" });
const uint32 = uint({ max: UINT32_MAX });
const formatVersion = uint({ min: FORMAT_VERSION, max: FORMAT_VERSION }) as Codec<typeof FORMAT_VERSION>;

const httpsUrl: Codec<string> = {
  encode: (value) => value,
  decode(value, path) {
    const raw = text({ maxLength: 2048 }).decode(value, path);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return violation(path, "not a valid URL");
    }
    if (url.protocol !== "https:") return violation(path, "image URLs must be https");
    return raw;
  },
};

/** source = { 0: inline index } / { 1: https URL } — exactly one. */
const imageSource: Codec<ImageSource> = {
  encode: (source) => ("inline" in source ? new Map([[0, source.inline]]) : new Map([[1, source.url]])),
  decode(value, path) {
    if (!(value instanceof Map) || value.size !== 1)
      return violation(path, "expected a map with exactly one of inline (0) or url (1)");
    if (value.has(0))
      return { inline: uint({ max: MAX_BUNDLE_IMAGES - 1 }).decode(value.get(0), `${path}.inline`) };
    if (value.has(1)) return { url: httpsUrl.decode(value.get(1), `${path}.url`) };
    return violation(path, "expected inline (0) or url (1)");
  },
};

const slotImage = struct<SlotImage>({
  address: { key: 0, codec: uint32 },
  size: { key: 1, codec: uint({ min: 1, max: UINT32_MAX }) },
  sha256: { key: 2, codec: bytes(32) },
  crc32: { key: 3, codec: uint32 },
  stm32Crc: { key: 4, codec: uint32 },
  source: { key: 5, codec: imageSource },
});

const slotMap = nameMap(oneOf(["a", "b", "single"] as const), slotImage, { min: 1, max: 2 });

/** slots = { "a": image, "b": image } / { "single": image }. */
const moduleSlots: Codec<ModuleSlots> = {
  encode: (slots) => slotMap.encode(Object.fromEntries(slotEntries(slots))),
  decode(value, path) {
    const slots = slotMap.decode(value, path);
    const names = Object.keys(slots).sort().join(",");
    if (names === "a,b") return { a: slots.a!, b: slots.b! };
    if (names === "single") return { single: slots.single! };
    return violation(path, `expected slots "a" and "b", or "single", got ${names}`);
  },
};

const dependency = struct<Dependency>({
  moduleType: { key: 0, codec: name },
  minVersion: { key: 1, codec: version },
});

const moduleEntry = struct<ModuleEntry>({
  version: { key: 0, codec: version },
  securityVersion: { key: 1, codec: uint32 },
  slots: { key: 2, codec: moduleSlots },
  order: { key: 3, codec: int({ min: -0x80000000, max: 0x7fffffff }) },
  dependsOn: { key: 4, codec: list(dependency, { max: MAX_DEPENDENCIES }) },
  device: { key: 5, codec: struct<{ pid: number }>({ pid: { key: 0, codec: uint({ max: 0xffff }) } }) },
});

const targets = struct<Targets>({
  gateways: { key: 0, codec: list(name, { max: MAX_TARGETS, unique: true }) },
  groups: { key: 1, codec: list(name, { max: MAX_TARGETS, unique: true }) },
});

const policy = struct<BundlePolicy>({
  atomicity: { key: 0, codec: oneOf(["all-or-nothing", "independent"] as const) },
  parallelism: { key: 1, codec: uint({ min: 1, max: 64 }) },
});

const releaseNotes = struct<ReleaseNotes>({
  summary: {
    key: 0,
    codec: text({ maxLength: 255, pattern: /^[^\p{Cc}]*(?:[\n][^\p{Cc}]*)*$/u, expected: "text" }),
    optional: true,
  },
  url: { key: 1, codec: httpsUrl, optional: true },
});

export const manifestCodec = struct<Manifest>({
  formatVersion: { key: 0, codec: formatVersion },
  sequence: { key: 1, codec: uint() },
  issuedAt: { key: 2, codec: uint() },
  expires: { key: 3, codec: uint() },
  targets: { key: 4, codec: targets },
  release: { key: 5, codec: printable },
  policy: { key: 6, codec: policy },
  modules: { key: 7, codec: nameMap(name, moduleEntry, { min: 1, max: MAX_MODULES }) },
  notes: { key: 8, codec: releaseNotes, optional: true },
});

const bundleRef = struct<BundleRef>({
  sequence: { key: 0, codec: uint() },
  release: { key: 1, codec: printable, optional: true },
});

export const commandCodec = struct<SignedCommand>({
  formatVersion: { key: 0, codec: formatVersion },
  kind: { key: 1, codec: oneOf(["rollback", "cancel", "retry", "acknowledge-state"] as const) },
  gateway: { key: 2, codec: name },
  sequence: { key: 3, codec: uint() },
  issuedAt: { key: 4, codec: uint() },
  expires: { key: 5, codec: uint() },
  module: { key: 6, codec: name, optional: true },
  bundle: { key: 7, codec: bundleRef, optional: true },
});

export type PayloadFailureCode = "bad-payload" | "unsupported-version" | "schema-violation";
export type PayloadResult<T> =
  { ok: true; value: T } | { ok: false; code: PayloadFailureCode; message: string; path?: string };

/** Decodes a manifest payload: CBOR, then format version, then schema, then cross-field rules. */
export function decodeManifestPayload(payload: Uint8Array): PayloadResult<Manifest> {
  return decodePayload(payload, "manifest", manifestCodec, manifestShape);
}

/** Decodes a command payload like a manifest payload. */
export function decodeCommandPayload(payload: Uint8Array): PayloadResult<SignedCommand> {
  return decodePayload(payload, "command", commandCodec, (c) =>
    c.expires <= c.issuedAt ? ["expires", "must be after issuedAt"] : undefined,
  );
}

export function encodeManifestPayload(manifest: Manifest): Uint8Array {
  return encodeCbor(manifestCodec.encode(manifest));
}

export function encodeCommandPayload(command: SignedCommand): Uint8Array {
  return encodeCbor(commandCodec.encode(command));
}

function decodePayload<T>(
  payload: Uint8Array,
  what: string,
  codec: Codec<T>,
  shape: (value: T) => [path: string, reason: string] | undefined,
): PayloadResult<T> {
  const decoded = decodeCbor(payload);
  if (!decoded.ok)
    return { ok: false, code: "bad-payload", message: `${what} payload is not CBOR: ${decoded.reason}` };
  const root = decoded.value;
  if (root instanceof Map && root.has(0) && root.get(0) !== FORMAT_VERSION) {
    return {
      ok: false,
      code: "unsupported-version",
      message: `${what} format version ${String(root.get(0))} is not supported (this gateway reads ${FORMAT_VERSION})`,
    };
  }
  try {
    const value = codec.decode(root, what);
    const problem = shape(value);
    if (problem)
      return {
        ok: false,
        code: "schema-violation",
        message: `${what}.${problem[0]}: ${problem[1]}`,
        path: `${what}.${problem[0]}`,
      };
    return { ok: true, value };
  } catch (error) {
    if (error instanceof SchemaViolation)
      return { ok: false, code: "schema-violation", message: error.message, path: error.path };
    throw error;
  }
}

/** Rules that span fields; the first broken one as [path, reason]. */
function manifestShape(m: Manifest): [string, string] | undefined {
  if (m.expires <= m.issuedAt) return ["expires", "must be after issuedAt"];
  if (m.targets.gateways.length + m.targets.groups.length === 0)
    return ["targets", "names no gateway and no group"];
  for (const [type, entry] of Object.entries(m.modules)) {
    const slots = slotEntries(entry.slots);
    for (const [slot, image] of slots) {
      if (image.address % 4 !== 0) return [`modules.${type}.slots.${slot}.address`, "must be 4-byte aligned"];
      if (image.address + image.size > UINT32_MAX + 1)
        return [`modules.${type}.slots.${slot}`, "extends past the 32-bit address space"];
    }
    if ("a" in entry.slots) {
      const { a, b } = entry.slots;
      if (a.address < b.address + b.size && b.address < a.address + a.size) {
        return [`modules.${type}.slots`, "slots a and b overlap"];
      }
    }
    const deps = entry.dependsOn.map((d) => d.moduleType);
    if (new Set(deps).size !== deps.length) return [`modules.${type}.dependsOn`, "names a module type twice"];
  }
  return undefined;
}
