/**
 * Before a campaign starts: which gateways it targets (groups, ids, inventory filter), which of them
 * can take the bundle (checked against their retained inventory the way the gateway itself would
 * check it: targeted by the signed manifest, a module of a type the bundle carries, the same device
 * PID and the same layout kind), which already hold it or something newer, and how the rest fall into
 * waves. The order inside the plan is a hash of campaign id and gateway id: stable across re-runs,
 * and spread over groups and names so that a canary is not "the first five in the alphabet".
 */
import { createHash } from "node:crypto";
import type { Manifest } from "../../../manifest/index.js";
import type { WireInventory } from "../../contract/contract.js";
import type { CampaignSpec, TargetFilter } from "./spec.js";

export interface PlannedGateway {
  gateway: string;
  wave: number;
  /** Already holds this release or a newer sequence: reported as such, never sent. */
  already: string | null;
}

export interface CampaignPlan {
  gateways: PlannedGateway[];
  ineligible: Array<{ gateway: string; reason: string }>;
  /** Gateways per wave (1-based wave i at index i-1). */
  waveSizes: number[];
}

export function planCampaign(
  spec: CampaignSpec,
  manifest: Manifest,
  inventories: ReadonlyMap<string, WireInventory>,
): CampaignPlan {
  const ineligible: CampaignPlan["ineligible"] = [];
  const chosen = new Set<string>();
  for (const [gateway, inv] of inventories) {
    const named = spec.targets.gateways.includes(gateway);
    const inGroup = inv.groups.some((g) => spec.targets.groups.includes(g));
    const bySelector = spec.targets.groups.length + spec.targets.gateways.length === 0;
    if (!(named || inGroup || bySelector)) continue;
    if (spec.targets.filter && !matchesFilter(inv, spec.targets.filter)) continue;
    chosen.add(gateway);
  }
  for (const gateway of spec.targets.gateways) {
    if (!inventories.has(gateway))
      ineligible.push({ gateway, reason: "no inventory retained on the broker" });
  }
  const eligible: Array<{ gateway: string; already: string | null }> = [];
  for (const gateway of chosen) {
    const inv = inventories.get(gateway)!;
    const reason = ineligibility(inv, manifest);
    if (reason) ineligible.push({ gateway, reason });
    else eligible.push({ gateway, already: alreadyThere(inv, manifest) });
  }
  eligible.sort((a, b) => rolloutKey(spec.id, a.gateway).localeCompare(rolloutKey(spec.id, b.gateway)));
  const waveSizes = waveSizesFor(spec, eligible.length);
  const gateways: PlannedGateway[] = [];
  let at = 0;
  waveSizes.forEach((size, i) => {
    for (const entry of eligible.slice(at, at + size)) gateways.push({ ...entry, wave: i + 1 });
    at += size;
  });
  ineligible.sort((a, b) => a.gateway.localeCompare(b.gateway));
  return { gateways, ineligible, waveSizes };
}

/**
 * Wave sizes: a count adds that many gateways; a percentage is the share of all eligible targets
 * reached by the end of the wave (5 % → 25 % → 100 % as Memfault and hawkBit operators write it).
 * The last wave always takes whatever is left.
 */
export function waveSizesFor(spec: CampaignSpec, total: number): number[] {
  const sizes: number[] = [];
  let reached = 0;
  spec.waves.forEach((wave, i) => {
    let upTo =
      "count" in wave.size ? reached + wave.size.count : Math.ceil((wave.size.percent / 100) * total);
    if (i === spec.waves.length - 1) upTo = total;
    upTo = Math.min(total, Math.max(reached, upTo));
    sizes.push(upTo - reached);
    reached = upTo;
  });
  return sizes;
}

function matchesFilter(inv: WireInventory, filter: TargetFilter): boolean {
  return inv.modules.some(
    (m) =>
      (filter.moduleType === undefined || m.type === filter.moduleType) &&
      (filter.release === undefined || m.release === filter.release) &&
      (filter.version === undefined || m.version === filter.version) &&
      (filter.pid === undefined || m.pid === filter.pid),
  );
}

/** Why the gateway would refuse this bundle for its devices or layout, or null. */
export function ineligibility(inv: WireInventory, manifest: Manifest): string | null {
  const targeted =
    manifest.targets.gateways.includes(inv.gateway) ||
    inv.groups.some((g) => manifest.targets.groups.includes(g));
  if (!targeted) return `not a target of the signed manifest (groups: ${inv.groups.join(", ") || "none"})`;
  const types = Object.keys(manifest.modules);
  const matched = inv.modules.filter((m) => types.includes(m.type));
  if (matched.length === 0) return `has no module of type ${types.join(", ")}`;
  for (const module of matched) {
    const entry = manifest.modules[module.type]!;
    if (entry.device.pid !== module.pid) {
      return `module ${module.module}: device PID 0x${module.pid.toString(16)}, the bundle is for 0x${entry.device.pid.toString(16)}`;
    }
    const layout = "single" in entry.slots ? "single" : "ab";
    if (layout !== module.layout)
      return `module ${module.module}: layout ${module.layout}, the bundle has ${layout} images`;
  }
  return null;
}

/** "holds sequence N" when the gateway already has this release or a newer one, else null. */
export function alreadyThere(inv: WireInventory, manifest: Manifest): string | null {
  if (inv.lastSequence > manifest.sequence)
    return `already past this release (last sequence ${inv.lastSequence} > ${manifest.sequence})`;
  if (inv.bundle?.sequence === manifest.sequence && inv.bundle.state === "committed")
    return `already committed ${manifest.release}`;
  return null;
}

/** Gateways in the order a campaign reaches them (ineligible ones aside). */
export function rolloutOrder(campaign: string, gateways: readonly string[]): string[] {
  return [...gateways].sort((a, b) => rolloutKey(campaign, a).localeCompare(rolloutKey(campaign, b)));
}

function rolloutKey(campaign: string, gateway: string): string {
  return createHash("sha256").update(`${campaign}\0${gateway}`).digest("hex");
}
