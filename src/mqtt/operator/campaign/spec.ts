/**
 * The campaign spec (campaign.yaml): which signed bundle, to whom, in which waves, how fast, when to
 * stop. The vocabulary follows the anchors operators know: waves as counts or percentages (Memfault's
 * canary then 5 % → 25 % → 100 %; hawkBit groups), a rollout rate, abort criteria in AWS IoT Jobs'
 * form (failureType × thresholdPercentage × minNumberOfExecutedThings), a success condition per wave
 * that pauses the campaign when unmet (hawkBit), and approval before a wave starts.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { assertTopicLevel } from "../../contract/topics.js";
import { CampaignError } from "./errors.js";

const percentage = z
  .string()
  .regex(/^\d+(\.\d+)?\s*%$/, 'a percentage such as "10%"')
  .transform((text) => ({ percent: Number.parseFloat(text) }))
  .refine((v) => v.percent > 0 && v.percent <= 100, "between 0 and 100 %");

const waveSchema = z.strictObject({
  /** A count of gateways, or "N%": the share of all eligible targets reached by the end of this wave. */
  size: z.union([
    z
      .number()
      .int()
      .positive()
      .transform((count) => ({ count })),
    percentage,
  ]),
  /** The wave waits for `campaign approve` before it starts. */
  approval: z.boolean().default(false),
  /** Overrides the campaign's success condition for this wave. */
  minSuccessPercentage: z.number().min(0).max(100).optional(),
  /** Overrides the campaign's soak time after this wave. */
  soakSeconds: z.number().min(0).optional(),
  name: z.string().optional(),
});

const abortSchema = z.strictObject({
  failureType: z.enum(["failed", "rejected", "timed-out", "any"]),
  thresholdPercentage: z.number().min(0).max(100),
  minNumberOfExecutedThings: z.number().int().min(1).default(1),
});

const filterSchema = z.strictObject({
  /** The gateway has a module of this type… */
  moduleType: z.string().optional(),
  /** …whose installed release is this one… */
  release: z.string().optional(),
  /** …or whose installed version is this one. */
  version: z.string().optional(),
  /** Device product ID of that module, e.g. 0x413. */
  pid: z.number().int().optional(),
});

export const campaignSpecSchema = z.strictObject({
  id: z.string().min(1),
  /** The signed bundle (path relative to the spec file). */
  bundle: z.string().min(1),
  description: z.string().optional(),
  targets: z
    .strictObject({
      groups: z.array(z.string()).default([]),
      gateways: z.array(z.string()).default([]),
      filter: filterSchema.optional(),
    })
    .refine((t) => t.groups.length + t.gateways.length > 0 || t.filter !== undefined, {
      message: "name groups, gateways or a filter",
    }),
  waves: z.array(waveSchema).min(1),
  rateLimit: z.strictObject({ maximumPerMinute: z.number().positive() }).optional(),
  soakSeconds: z.number().min(0).default(0),
  /** Per wave: at least this share of its gateways must succeed, else the campaign pauses. */
  minSuccessPercentage: z.number().min(0).max(100).default(100),
  abort: z.array(abortSchema).default([]),
  /** A gateway that has not finished this long after it was sent the bundle counts as timed out. */
  gatewayTimeoutSeconds: z.number().positive().default(3600),
  offline: z
    .strictObject({
      /** wait: send when it comes back, up to waitSeconds; timed-out: count it as timed out at once. */
      policy: z.enum(["wait", "timed-out"]).default("wait"),
      waitSeconds: z.number().min(0).default(3600),
    })
    .default({ policy: "wait", waitSeconds: 3600 }),
});

export type CampaignSpec = z.infer<typeof campaignSpecSchema>;
export type WaveSpec = CampaignSpec["waves"][number];
export type AbortCriterion = CampaignSpec["abort"][number];
export type TargetFilter = NonNullable<CampaignSpec["targets"]["filter"]>;

/** Validates a parsed spec; every problem is reported at once, by path. */
export function parseCampaignSpec(raw: unknown, where = "campaign spec"): CampaignSpec {
  const parsed = campaignSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new CampaignError("spec-invalid", `${where}: ${problems.join("; ")}`, { problems });
  }
  try {
    assertTopicLevel(parsed.data.id, "campaign id");
  } catch (error) {
    throw new CampaignError("spec-invalid", `${where}: ${(error as Error).message}`);
  }
  return parsed.data;
}

/** Reads campaign.yaml (or .json) and the bundle it names. */
export function loadCampaignSpec(file: string): {
  spec: CampaignSpec;
  bundle: Uint8Array;
  bundlePath: string;
} {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CampaignError("spec-invalid", `${file}: ${(error as Error).message}`);
  }
  const spec = parseCampaignSpec(raw, file);
  const bundlePath = resolve(dirname(file), spec.bundle);
  let bundle: Uint8Array;
  try {
    bundle = new Uint8Array(readFileSync(bundlePath));
  } catch (error) {
    throw new CampaignError("spec-invalid", `${file}: bundle ${bundlePath}: ${(error as Error).message}`);
  }
  return { spec, bundle, bundlePath };
}
