/** Readable and JSON renderings of manifests and commands, for `subflash manifest inspect|verify` and logs. */
import { toHex } from "../signing/index.js";
import { addr } from "../util/logger.js";
import { updateStages } from "./dependencies.js";
import { formatPid, formatTime, hex32 } from "./format.js";
import { slotEntries, type ImageSource, type Manifest, type SignedCommand } from "./types.js";

/** The manifest as plain JSON: byte strings in hex, times both as POSIX seconds and ISO-8601. */
export function manifestToJson(manifest: Manifest): Record<string, unknown> {
  return {
    formatVersion: manifest.formatVersion,
    release: manifest.release,
    sequence: manifest.sequence,
    issuedAt: manifest.issuedAt,
    issuedAtIso: formatTime(manifest.issuedAt),
    expires: manifest.expires,
    expiresIso: formatTime(manifest.expires),
    targets: manifest.targets,
    policy: manifest.policy,
    modules: Object.fromEntries(
      Object.entries(manifest.modules).map(([type, entry]) => [
        type,
        {
          ...entry,
          slots: Object.fromEntries(
            slotEntries(entry.slots).map(([slot, image]) => [
              slot,
              { ...image, sha256: toHex(image.sha256) },
            ]),
          ),
        },
      ]),
    ),
  };
}

export function commandToJson(command: SignedCommand): Record<string, unknown> {
  return { ...command, issuedAtIso: formatTime(command.issuedAt), expiresIso: formatTime(command.expires) };
}

/** A multi-line description of everything in a manifest. */
export function formatManifest(manifest: Manifest): string {
  const targets = [
    manifest.targets.gateways.length > 0 ? `gateways ${manifest.targets.gateways.join(", ")}` : "",
    manifest.targets.groups.length > 0 ? `groups ${manifest.targets.groups.join(", ")}` : "",
  ].filter(Boolean);
  const lines = [
    `release      ${manifest.release}`,
    `sequence     ${manifest.sequence}`,
    `issued       ${formatTime(manifest.issuedAt)}`,
    `expires      ${formatTime(manifest.expires)}`,
    `targets      ${targets.join("; ")}`,
    `policy       ${manifest.policy.atomicity}, parallelism ${manifest.policy.parallelism}`,
    `order        ${updateStages(manifest)
      .map((stage) => stage.join(" + "))
      .join(" → ")}`,
    `modules      ${Object.keys(manifest.modules).length}`,
  ];
  for (const [type, entry] of Object.entries(manifest.modules)) {
    lines.push(
      `  ${type}  version ${entry.version}  security ${entry.securityVersion}  order ${entry.order}  device ${formatPid(entry.device.pid)}`,
    );
    for (const dep of entry.dependsOn) lines.push(`    depends on ${dep.moduleType} ≥ ${dep.minVersion}`);
    for (const [slot, image] of slotEntries(entry.slots)) {
      lines.push(
        `    slot ${slot.padEnd(6)} ${addr(image.address)}  ${image.size} bytes  ${describeSource(image.source)}`,
        `      sha256 ${toHex(image.sha256)}`,
        `      crc32 ${hex32(image.crc32)}  stm32-crc ${hex32(image.stm32Crc)}`,
      );
    }
  }
  return lines.join("\n");
}

export function formatCommand(command: SignedCommand): string {
  return [
    `command      ${command.kind}`,
    `gateway      ${command.gateway}`,
    `sequence     ${command.sequence}`,
    `issued       ${formatTime(command.issuedAt)}`,
    `expires      ${formatTime(command.expires)}`,
    ...(command.module !== undefined ? [`module       ${command.module}`] : []),
    ...(command.bundle
      ? [
          `bundle       sequence ${command.bundle.sequence}${command.bundle.release ? ` (${command.bundle.release})` : ""}`,
        ]
      : []),
  ].join("\n");
}

function describeSource(source: ImageSource): string {
  return "inline" in source ? `inline #${source.inline}` : `from ${source.url}`;
}
