/**
 * The release spec: the readable YAML (or JSON) file `subflash release create` turns into a signed
 * bundle. People write module types, versions, image files and targets; the tool computes sizes,
 * digests and CRCs. Documented with an example in docs/manifest.md.
 */
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, readText } from "../signing/index.js";
import { resolveDevice } from "../targets/index.js";
import { ManifestError } from "./errors.js";
import { NAME_PATTERN } from "./schema.js";
import type { Atomicity } from "./types.js";
import { VERSION_PATTERN } from "./version.js";

const name = z
  .string()
  .regex(NAME_PATTERN, "expected letters, digits, '.', '_' or '-' (max 64, starting with a letter or digit)");
const version = z.string().regex(VERSION_PATTERN, "expected a version such as 1.4.2 or 2.0.0-rc.1");
const address = z.number().int().min(0).max(0xffffffff);

const slotSpec = z
  .object({
    /** Image file: .bin (needs `address`), .hex or .elf (carry their address). Relative to the spec. */
    file: z.string().min(1),
    address: address.optional(),
    /** When given, the image is fetched from here by the gateway instead of travelling in the bundle. */
    url: z.string().startsWith("https://", "image URLs must be https").optional(),
  })
  .strict();

const moduleSpec = z
  .object({
    version: z.union([version, z.number().transform(String)]).pipe(version),
    securityVersion: z.number().int().min(0).max(0xffffffff).default(0),
    /** A product ID (0x413) or a part name known to the device table (f407). */
    device: z.union([z.number().int().min(0).max(0xffff), z.string().min(1)], {
      error: (issue) =>
        issue.input === undefined
          ? "required: the module's part name (f407) or product ID (0x413)"
          : "expected a part name (f407) or a product ID (0x413)",
    }),
    order: z.number().int().optional(),
    /** module type → minimum version */
    dependsOn: z.record(name, z.union([version, z.number().transform(String)]).pipe(version)).default({}),
    slots: z.union([
      z.object({ a: slotSpec, b: slotSpec }).strict(),
      z.object({ single: slotSpec }).strict(),
    ]),
  })
  .strict();

const specSchema = z
  .object({
    release: z.string().min(1).max(128),
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    issuedAt: z.union([z.string(), z.date()]).optional(),
    expires: z.union([z.string(), z.date()]).optional(),
    targets: z
      .object({ gateways: z.array(name).default([]), groups: z.array(name).default([]) })
      .strict()
      .refine((t) => t.gateways.length + t.groups.length > 0, "name at least one gateway or group"),
    policy: z
      .object({
        atomicity: z.enum(["all-or-nothing", "independent"]).default("all-or-nothing"),
        parallelism: z.number().int().min(1).max(64).default(1),
      })
      .strict()
      .default({ atomicity: "all-or-nothing", parallelism: 1 }),
    modules: z
      .record(name, moduleSpec)
      .refine((m) => Object.keys(m).length > 0, "list at least one module type"),
    /** Release notes shown to people (Home Assistant's update entity): a summary and a link. */
    notes: z
      .object({
        summary: z.string().min(1).max(255).optional(),
        url: z.url({ protocol: /^https$/ }).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface SlotSpec {
  /** Absolute path of the image file. */
  file: string;
  address?: number;
  url?: string;
}

export interface ModuleSpec {
  version: string;
  securityVersion: number;
  pid: number;
  order?: number;
  dependsOn: Record<string, string>;
  slots: { a: SlotSpec; b: SlotSpec } | { single: SlotSpec };
}

export interface ReleaseSpec {
  /** The spec file, for messages. */
  source: string;
  release: string;
  sequence?: number;
  issuedAt?: Date;
  /** Duration text ("30d") or instant, resolved against issuedAt when the manifest is built. */
  expires?: string | Date;
  targets: { gateways: string[]; groups: string[] };
  policy: { atomicity: Atomicity; parallelism: number };
  modules: Record<string, ModuleSpec>;
  notes?: { summary?: string; url?: string };
}

/** Reads a release spec (YAML or JSON). Throws ManifestError "spec-unreadable" or "bad-spec" naming every problem. */
export async function readReleaseSpec(path: string): Promise<ReleaseSpec> {
  const read = await readText(path);
  if ("error" in read)
    throw new ManifestError("spec-unreadable", `release spec ${path}: ${read.error}`, { path });
  let document: unknown;
  try {
    document = parseYaml(read.text);
  } catch (error) {
    throw new ManifestError(
      "spec-unreadable",
      `release spec ${path}: not valid YAML (${error instanceof Error ? error.message : String(error)})`,
      { path },
    );
  }
  return parseReleaseSpec(document, path);
}

/** Validates a parsed spec document; image paths are resolved against the spec file's folder. */
export function parseReleaseSpec(document: unknown, path: string): ReleaseSpec {
  const parsed = specSchema.safeParse(document);
  if (!parsed.success)
    throw new ManifestError("bad-spec", `release spec ${path}: ${describeIssues(parsed.error.issues)}`, {
      path,
    });
  const spec = parsed.data;
  const base = dirname(resolve(path));
  const problems: string[] = [];
  const slot = (s: z.infer<typeof slotSpec>): SlotSpec => ({
    file: resolve(base, s.file),
    ...(s.address !== undefined && { address: s.address }),
    ...(s.url !== undefined && { url: s.url }),
  });
  const modules: Record<string, ModuleSpec> = {};
  for (const [type, m] of Object.entries(spec.modules)) {
    let pid = 0;
    try {
      pid = typeof m.device === "number" ? m.device : resolveDevice(m.device).pid;
    } catch (error) {
      problems.push(
        `modules.${type}.device: ${error instanceof Error ? error.message.replace(/ \[[a-z-]+\]$/, "") : String(error)}`,
      );
    }
    modules[type] = {
      version: m.version,
      securityVersion: m.securityVersion,
      pid,
      ...(m.order !== undefined && { order: m.order }),
      dependsOn: m.dependsOn,
      slots:
        "single" in m.slots ? { single: slot(m.slots.single) } : { a: slot(m.slots.a), b: slot(m.slots.b) },
    };
  }
  const issuedAt = spec.issuedAt === undefined ? undefined : toDate(spec.issuedAt, "issuedAt", problems);
  if (problems.length > 0)
    throw new ManifestError("bad-spec", `release spec ${path}: ${problems.join("; ")}`, { path });
  return {
    source: path,
    release: spec.release,
    ...(spec.sequence !== undefined && { sequence: spec.sequence }),
    ...(issuedAt && { issuedAt }),
    ...(spec.expires !== undefined && { expires: spec.expires }),
    targets: spec.targets,
    policy: spec.policy,
    modules,
    ...(spec.notes && {
      notes: {
        ...(spec.notes.summary !== undefined && { summary: spec.notes.summary }),
        ...(spec.notes.url !== undefined && { url: spec.notes.url }),
      },
    }),
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Resolves an expiry: a duration after `issuedAt` ("90m", "12h", "30d", "2w") or an ISO-8601 instant.
 * Returns POSIX seconds, or undefined when the text is neither.
 */
export function resolveExpiry(expires: string | Date, issuedAtSeconds: number): number | undefined {
  if (expires instanceof Date)
    return Number.isNaN(expires.getTime()) ? undefined : Math.floor(expires.getTime() / 1000);
  const duration = /^(\d+)\s*([smhdw])$/.exec(expires.trim());
  if (duration) return issuedAtSeconds + Number(duration[1]) * DURATION_UNITS[duration[2]!]!;
  const instant = parseInstant(expires);
  return instant && Math.floor(instant.getTime() / 1000);
}

function toDate(value: string | Date, field: string, problems: string[]): Date | undefined {
  const date = value instanceof Date ? value : parseInstant(value);
  if (!date || Number.isNaN(date.getTime())) {
    problems.push(`${field}: expected an ISO-8601 date-time such as 2026-01-01T00:00:00Z`);
    return undefined;
  }
  return date;
}

/** An ISO-8601 date or date-time ("2026-01-01", "2026-01-01T00:00:00Z"), or undefined. */
export function parseInstant(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
