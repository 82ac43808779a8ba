/**
 * The manifest and command data model (format version 1). Times are POSIX seconds (UTC); sizes and
 * addresses are bytes. The CBOR layout of each field is in schema.ts and docs/manifest.md (CDDL).
 */

export const FORMAT_VERSION = 1;

/** A module type's name in the manifest (e.g. "radio"), as in the gateway config. */
export type ModuleType = string;

/** The slots of a module: two linked for different addresses (A/B), or one. */
export type SlotName = "a" | "b" | "single";

export interface Manifest {
  formatVersion: typeof FORMAT_VERSION;
  /** Strictly increasing across all manifests a gateway accepts (anti-replay). */
  sequence: number;
  /** When it was signed (POSIX seconds). */
  issuedAt: number;
  /** Not accepted at or after this instant (POSIX seconds): limits freeze attacks. */
  expires: number;
  targets: Targets;
  /** Release name for people and status reports. */
  release: string;
  policy: BundlePolicy;
  /** One entry per module type the release updates. */
  modules: Record<ModuleType, ModuleEntry>;
  /** Optional release notes for people (Home Assistant shows them on the module's update entity). */
  notes?: ReleaseNotes;
}

export interface ReleaseNotes {
  /** A short summary (at most 255 characters, no control characters but line breaks). */
  summary?: string;
  /** Where the full notes are (https). */
  url?: string;
}

/** Who the manifest is for: a gateway accepts it if its id or one of its groups is listed. */
export interface Targets {
  gateways: string[];
  groups: string[];
}

export type Atomicity = "all-or-nothing" | "independent";

export interface BundlePolicy {
  /** all-or-nothing: a failure rolls back the modules already updated; independent: each module stands alone. */
  atomicity: Atomicity;
  /** How many modules (on different buses) may be updated at once (≥ 1). */
  parallelism: number;
}

export interface ModuleEntry {
  /** Semver-like version ("1.4.2", "2.0.0-rc.1"), for dependency checks and reports. */
  version: string;
  /** Anti-rollback level: never below the module's current floor. Separate from the version. */
  securityVersion: number;
  slots: ModuleSlots;
  /** Update order: lower first; equal orders may run in parallel. A dependency has a strictly lower order. */
  order: number;
  dependsOn: Dependency[];
  /** The chip this image is for, checked against the bootloader's Get ID before anything is written. */
  device: { pid: number };
}

export type AbSlots = { a: SlotImage; b: SlotImage };
export type SingleSlot = { single: SlotImage };
export type ModuleSlots = AbSlots | SingleSlot;

export interface SlotImage {
  /** Load address of the first byte (4-byte aligned). */
  address: number;
  /** Length in bytes. */
  size: number;
  /** SHA-256 of the bytes (32 bytes). */
  sha256: Uint8Array;
  /** CRC-32 (zlib) of the bytes. */
  crc32: number;
  /** STM32 hardware CRC of the bytes padded with 0xFF to a multiple of 4 (what Get Checksum 0xA1 returns). */
  stm32Crc: number;
  source: ImageSource;
}

/** Where the bytes are: at an index of the bundle's image list, or at an https URL. */
export type ImageSource = { inline: number } | { url: string };

export interface Dependency {
  moduleType: ModuleType;
  /** Lowest acceptable version of that module type. */
  minVersion: string;
}

/**
 * `acknowledge-state`: the operator has seen that the gateway's records of its anti-replay floors
 * were lost or disagreed, and lets it accept bundles again (it keeps the highest floors it found).
 */
export type CommandKind = "rollback" | "cancel" | "retry" | "acknowledge-state";

/** A signed operator command (rollback, cancel, retry, acknowledge-state), aimed at one gateway. */
export interface SignedCommand {
  formatVersion: typeof FORMAT_VERSION;
  kind: CommandKind;
  /** The one gateway that may act on it. */
  gateway: string;
  /** Strictly increasing across all commands a gateway accepts; a counter separate from manifests. */
  sequence: number;
  issuedAt: number;
  expires: number;
  /** The module type concerned; absent means every module of the bundle. */
  module?: ModuleType;
  /** The bundle concerned. */
  bundle?: BundleRef;
}

export interface BundleRef {
  /** The manifest's sequence number. */
  sequence: number;
  release?: string;
}

/** The slots of a module in a fixed order (a, b or single). */
export function slotEntries(slots: ModuleSlots): Array<[SlotName, SlotImage]> {
  return "single" in slots
    ? [["single", slots.single]]
    : [
        ["a", slots.a],
        ["b", slots.b],
      ];
}
