/**
 * Policy checks of a decoded, signature-verified manifest against the gateway's identity, state
 * and configuration. Each check is a named function; they run in a fixed order, cheapest and most
 * fundamental first, digests of image bytes last. The first failure is the outcome.
 */
import { addr } from "../util/logger.js";
import { checkImage } from "./images.js";
import { findDependencyProblem } from "./dependencies.js";
import { failure, type VerifyFailure } from "./outcome.js";
import { formatPid, formatTime } from "./format.js";
import { slotEntries, type Manifest, type ModuleType, type SlotName } from "./types.js";

export interface GatewayIdentity {
  id: string;
  groups: readonly string[];
}

/** One slot of a module as the gateway's config describes it. */
export interface SlotRange {
  /** Start of the slot in the module's flash; when given, images must lie inside [address, address + size). */
  address?: number;
  /** Capacity in bytes. */
  size: number;
}

export type SlotLayout = { a: SlotRange; b: SlotRange } | { single: SlotRange };

/** What the gateway's config says about a module type; each field, when present, is checked. */
export interface ModuleTypeConfig {
  slots?: SlotLayout;
  pid?: number;
}

/** Everything the policy checks may use; a check whose input is absent is skipped (and reported as such). */
export interface PolicyInput {
  now: Date;
  /** Tolerated clock difference in seconds, both for issuedAt in the future and for expiry. */
  skewSeconds: number;
  gateway?: GatewayIdentity;
  /** Sequence of the last manifest accepted (0 when none). */
  lastSequence?: number;
  /** Lowest acceptable security version per module type (missing types: 0). */
  securityFloors?: Readonly<Record<ModuleType, number>>;
  /** Versions installed now, for dependencies on module types the bundle does not update. */
  installedVersions?: Readonly<Record<ModuleType, string>>;
  /** Config of the module types this gateway has; manifest module types not listed are not checked here. */
  moduleTypes?: Readonly<Record<ModuleType, ModuleTypeConfig>>;
  /** The bundle's inline images; absent for a bare manifest (image bytes then unchecked). */
  images?: readonly Uint8Array[];
}

export type PolicyCheckName =
  "target" | "freshness" | "replay" | "security-floor" | "device" | "slots" | "dependencies" | "images";

type Check = (manifest: Manifest, input: PolicyInput) => VerifyFailure | undefined | "skipped";

const policyFailure = (
  code: VerifyFailure["code"],
  message: string,
  detail: Record<string, unknown> = {},
): VerifyFailure => failure(code, "policy", message, detail);

const checkTarget: Check = (m, { gateway }) => {
  if (!gateway) return "skipped";
  if (m.targets.gateways.includes(gateway.id) || gateway.groups.some((g) => m.targets.groups.includes(g)))
    return undefined;
  return policyFailure(
    "not-for-this-gateway",
    `release ${m.release} targets ${describeTargets(m)}, not gateway ${gateway.id} (groups: ${gateway.groups.join(", ") || "none"})`,
    {
      gateway: gateway.id,
      groups: [...gateway.groups],
      targets: m.targets,
    },
  );
};

const checkFreshness: Check = (m, { now, skewSeconds }) =>
  checkTimes(`release ${m.release}`, m, now, skewSeconds);

const checkReplay: Check = (m, { lastSequence }) =>
  lastSequence === undefined ? "skipped" : checkSequence("manifest", m.sequence, lastSequence);

/**
 * Freshness of a signed document: issued no later than now plus the skew, and not at or after its
 * expiry plus the skew (the skew absorbs clock differences between signer and gateway).
 */
export function checkTimes(
  what: string,
  times: { issuedAt: number; expires: number },
  now: Date,
  skewSeconds: number,
): VerifyFailure | undefined {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (times.issuedAt > nowSeconds + skewSeconds) {
    return policyFailure(
      "not-yet-valid",
      `${what} was issued at ${formatTime(times.issuedAt)}, later than now (${formatTime(nowSeconds)}) plus ${skewSeconds} s skew; check the clocks`,
      { issuedAt: times.issuedAt, now: nowSeconds },
    );
  }
  if (nowSeconds >= times.expires + skewSeconds) {
    return policyFailure(
      "expired",
      `${what} expired at ${formatTime(times.expires)} (now ${formatTime(nowSeconds)})`,
      { expires: times.expires, now: nowSeconds },
    );
  }
  return undefined;
}

/** Anti-replay: a sequence must be strictly greater than the last accepted one of its kind. */
export function checkSequence(
  what: "manifest" | "command",
  sequence: number,
  lastSequence: number,
): VerifyFailure | undefined {
  if (sequence > lastSequence) return undefined;
  return policyFailure(
    "replayed",
    `${what} sequence ${sequence} is not greater than the last accepted ${lastSequence}`,
    { sequence, lastSequence },
  );
}

const checkSecurityFloors: Check = (m, { securityFloors }) => {
  if (!securityFloors) return "skipped";
  for (const [type, entry] of Object.entries(m.modules)) {
    const floor = Object.hasOwn(securityFloors, type) ? (securityFloors[type] ?? 0) : 0;
    if (entry.securityVersion < floor) {
      return policyFailure(
        "downgrade",
        `module ${type}: security version ${entry.securityVersion} is below its floor ${floor}`,
        {
          moduleType: type,
          securityVersion: entry.securityVersion,
          floor,
        },
      );
    }
  }
  return undefined;
};

const checkDevices: Check = (m, { moduleTypes }) => {
  if (!moduleTypes) return "skipped";
  for (const [type, entry] of Object.entries(m.modules)) {
    const pid = configOf(moduleTypes, type)?.pid;
    if (pid !== undefined && pid !== entry.device.pid) {
      return policyFailure(
        "wrong-device",
        `module ${type}: image is for PID ${formatPid(entry.device.pid)}, this gateway's ${type} is ${formatPid(pid)}`,
        {
          moduleType: type,
          pid: entry.device.pid,
          expectedPid: pid,
        },
      );
    }
  }
  return undefined;
};

const checkSlots: Check = (m, { moduleTypes }) => {
  if (!moduleTypes) return "skipped";
  for (const [type, entry] of Object.entries(m.modules)) {
    const layout = configOf(moduleTypes, type)?.slots;
    if (!layout) continue;
    if ("single" in layout !== "single" in entry.slots) {
      const want = "single" in layout ? "single" : "a and b";
      return policyFailure(
        "slot-mismatch",
        `module ${type}: the manifest has ${"single" in entry.slots ? "single" : "a and b"} slot images, this gateway's ${type} has ${want}`,
        {
          moduleType: type,
        },
      );
    }
    for (const [slot, image] of slotEntries(entry.slots)) {
      const range = (layout as Partial<Record<SlotName, SlotRange>>)[slot]!;
      const detail = {
        moduleType: type,
        slot,
        size: image.size,
        address: image.address,
        slotSize: range.size,
        slotAddress: range.address,
      };
      if (image.size > range.size) {
        return policyFailure(
          "image-too-large",
          `module ${type} slot ${slot}: image of ${image.size} bytes does not fit the ${range.size}-byte slot`,
          detail,
        );
      }
      if (
        range.address !== undefined &&
        (image.address < range.address || image.address + image.size > range.address + range.size)
      ) {
        return policyFailure(
          "outside-slot",
          `module ${type} slot ${slot}: image at ${addr(image.address)}+${image.size} leaves the slot ${addr(range.address)}+${range.size}`,
          detail,
        );
      }
    }
  }
  return undefined;
};

const checkDependencies: Check = (m, { installedVersions }) => {
  const problem = findDependencyProblem(m, installedVersions);
  return problem ? policyFailure(problem.code, problem.message, problem.detail) : undefined;
};

const checkImages: Check = (m, { images }) => {
  if (!images) return "skipped";
  const used = new Set<number>();
  for (const [type, entry] of Object.entries(m.modules)) {
    for (const [slot, image] of slotEntries(entry.slots)) {
      if (!("inline" in image.source)) continue;
      const index = image.source.inline;
      const bytes = images[index];
      if (!bytes) {
        return policyFailure(
          "bundle-mismatch",
          `module ${type} slot ${slot}: inline image #${index} is not in the bundle (it has ${images.length})`,
          {
            moduleType: type,
            slot,
            index,
          },
        );
      }
      used.add(index);
      const result = checkImage(image, bytes);
      if (!result.ok)
        return policyFailure(result.code, `module ${type} slot ${slot}: ${result.message}`, {
          moduleType: type,
          slot,
          index,
        });
    }
  }
  const unused = images.map((_, i) => i).filter((i) => !used.has(i));
  if (unused.length > 0) {
    return policyFailure(
      "bundle-mismatch",
      `the bundle carries image(s) #${unused.join(", #")} that the manifest does not name`,
      { unused },
    );
  }
  return undefined;
};

/** The checks in the order they run. */
export const POLICY_CHECKS: ReadonlyArray<readonly [PolicyCheckName, Check]> = [
  ["target", checkTarget],
  ["freshness", checkFreshness],
  ["replay", checkReplay],
  ["security-floor", checkSecurityFloors],
  ["device", checkDevices],
  ["slots", checkSlots],
  ["dependencies", checkDependencies],
  ["images", checkImages],
];

/** Runs every policy check in order; the first failure, and which checks had no input and were skipped. */
export function checkPolicy(
  manifest: Manifest,
  input: PolicyInput,
): { failure?: VerifyFailure; skipped: PolicyCheckName[] } {
  const skipped: PolicyCheckName[] = [];
  for (const [name, check] of POLICY_CHECKS) {
    const result = check(manifest, input);
    if (result === "skipped") skipped.push(name);
    else if (result) return { failure: result, skipped };
  }
  return { skipped };
}

function configOf(
  moduleTypes: Readonly<Record<ModuleType, ModuleTypeConfig>>,
  type: ModuleType,
): ModuleTypeConfig | undefined {
  return Object.hasOwn(moduleTypes, type) ? moduleTypes[type] : undefined;
}

function describeTargets(m: Manifest): string {
  const parts = [
    ...m.targets.gateways.map((g) => `gateway ${g}`),
    ...m.targets.groups.map((g) => `group ${g}`),
  ];
  return parts.length > 4 ? `${parts.slice(0, 4).join(", ")} and ${parts.length - 4} more` : parts.join(", ");
}
