/**
 * The one builder of simulated releases, for the demo, the fleet simulator, the benchmarks and the
 * tests: a manifest whose modules carry the same image for every slot they have (A and B, or the
 * single slot), described at the slot addresses of each module's layout, plus the inline images in
 * manifest order. Signing is the caller's (createBundle), so tests can tamper with the manifest
 * first.
 */
import { describeImage } from "../../manifest/index.js";
import type { Atomicity, Manifest, ModuleEntry } from "../../manifest/index.js";

/** Where a module type's slots are, and which part it is. */
export interface ReleaseTarget {
  type: string;
  pid: number;
  layout:
    | { kind: "single"; slot: { address: number } }
    | { kind: "ab"; slotA: { address: number }; slotB: { address: number } };
}

export interface ReleaseModule {
  target: ReleaseTarget;
  version: string;
  image: Uint8Array;
  securityVersion?: number;
  order?: number;
}

export interface SimRelease {
  sequence: number;
  release: string;
  gateways?: readonly string[];
  groups?: readonly string[];
  modules: readonly ReleaseModule[];
  atomicity?: Atomicity;
  parallelism: number;
  /** Seconds before now the manifest says it was issued (clock-skew margin). Default 5. */
  issuedAgo?: number;
  /** Seconds until it expires. Default 3600. */
  expiresIn?: number;
  now?: number;
}

/** The manifest and its inline images, in the order the manifest's `inline` indexes name them. */
export function simReleaseManifest(release: SimRelease): { manifest: Manifest; images: Uint8Array[] } {
  const now = Math.floor((release.now ?? Date.now()) / 1000);
  const images: Uint8Array[] = [];
  const modules: Record<string, ModuleEntry> = {};
  for (const m of release.modules) {
    images.push(m.image);
    const source = { inline: images.length - 1 };
    const { layout } = m.target;
    const slots =
      layout.kind === "single"
        ? { single: describeImage(m.image, { address: layout.slot.address, source }) }
        : {
            a: describeImage(m.image, { address: layout.slotA.address, source }),
            b: describeImage(m.image, { address: layout.slotB.address, source }),
          };
    modules[m.target.type] = {
      version: m.version,
      securityVersion: m.securityVersion ?? 0,
      slots,
      order: m.order ?? 0,
      dependsOn: [],
      device: { pid: m.target.pid },
    };
  }
  const manifest: Manifest = {
    formatVersion: 1,
    sequence: release.sequence,
    issuedAt: now - (release.issuedAgo ?? 5),
    expires: now + (release.expiresIn ?? 3600),
    targets: { gateways: [...(release.gateways ?? [])], groups: [...(release.groups ?? [])] },
    release: release.release,
    policy: { atomicity: release.atomicity ?? "all-or-nothing", parallelism: release.parallelism },
    modules,
  };
  return { manifest, images };
}
