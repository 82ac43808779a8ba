/**
 * `subflash manifest verify|inspect`: check a bundle or signed manifest the way a gateway would, or
 * show everything in it.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  DEFAULT_SKEW_SECONDS,
  checkPolicy,
  commandToJson,
  decodeBundle,
  decodeCommandPayload,
  decodeManifestPayload,
  formatCommand,
  formatManifest,
  looksLikeBundle,
  manifestToJson,
  openBundle,
  openSignedManifest,
  parseInstant,
  POLICY_CHECKS,
  type PolicyCheckName,
  type PolicyInput,
  type VerifyFailure,
} from "../../manifest/index.js";
import { ContentType, decodeCose, HeaderLabel, loadTrustStore, toHex } from "../../signing/index.js";
import { describeFsError } from "../../signing/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface VerifyFlags {
  trust: string;
  gateway?: string;
  groups?: string;
  lastSequence?: string;
  floor?: string[];
  installed?: string[];
  now?: string;
  skew?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Why a policy check did not run in the CLI, by the option that would have enabled it. */
const SKIP_REASONS: Record<PolicyCheckName, string> = {
  target: "no --gateway",
  freshness: "",
  replay: "no --last-sequence",
  "security-floor": "no --floor",
  device: "gateway config only",
  slots: "gateway config only",
  dependencies: "",
  images: "bare manifest: images not at hand",
};

export function register(program: Command): void {
  const manifest = program.command("manifest").description("Verify or inspect bundles and signed manifests");
  manifest
    .command("verify <file>")
    .description(
      "Verify a bundle (or bare signed manifest) as a gateway would; exit 0 when accepted, 1 with the reason when refused",
    )
    .requiredOption("--trust <trust.json>", "trust store: trusted public keys and signature threshold")
    .option("--gateway <id>", "check targeting for this gateway id")
    .option("--groups <a,b>", "the gateway's groups (with --gateway)")
    .option("--last-sequence <n>", "refuse unless the sequence is greater than this")
    .option("--floor <type=n>", "security floor of a module type (repeatable)", collect)
    .option(
      "--installed <type=version>",
      "installed version of a module type, for dependencies (repeatable)",
      collect,
    )
    .option("--now <iso>", "check times against this instant instead of the clock")
    .option("--skew <seconds>", `tolerated clock skew (default ${DEFAULT_SKEW_SECONDS})`)
    .option("--json", "print the outcome as JSON")
    .action(action("manifest verify", (file: string, flags: VerifyFlags) => verify(file, flags)));
  manifest
    .command("inspect <file>")
    .description("Print everything in a bundle, signed manifest or signed command (signatures NOT verified)")
    .option("--json", "print JSON")
    .action(action("manifest inspect", (file: string, flags: { json?: boolean }) => inspect(file, flags)));
}

async function verify(file: string, flags: VerifyFlags): Promise<number> {
  const input = policyInput(flags);
  const bytes = await readInput(file);
  const trust = await loadTrustStore(flags.trust);
  const bundle = looksLikeBundle(bytes) ? openBundle(bytes, { trust, now: input.now }) : undefined;
  const opened = bundle ?? openSignedManifest(bytes, { trust, now: input.now });
  // Input that is neither a bundle nor a COSE envelope gets the daemon's name for it.
  if (!opened.ok && !bundle && opened.code === "malformed-envelope")
    return refuse(
      {
        ...opened,
        code: "malformed-bundle",
        message: `neither a bundle nor a signed manifest: ${opened.message}`,
      },
      flags,
    );
  if (!opened.ok) return refuse(opened, flags);
  const images = bundle?.ok ? bundle.images : undefined;
  const { failure, skipped } = checkPolicy(opened.manifest, { ...input, images });
  if (failure) return refuse(failure, flags);

  const checked = [
    "signatures",
    "schema",
    ...POLICY_CHECKS.map(([name]) => name).filter((name) => !skipped.includes(name)),
  ];
  const notChecked = skipped.map((name) => `${name} (${SKIP_REASONS[name]})`);
  if (flags.json) {
    const result = {
      ok: true,
      signedBy: opened.signedBy,
      checked,
      skipped,
      manifest: manifestToJson(opened.manifest),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const m = opened.manifest;
    process.stdout.write(
      [
        `accepted: release ${m.release}, sequence ${m.sequence}, ${Object.keys(m.modules).length} module type(s), signed by ${opened.signedBy.join(", ")} (threshold ${trust.threshold})`,
        `checked:     ${checked.join(", ")}`,
        ...(notChecked.length > 0 ? [`not checked: ${notChecked.join(", ")}`] : []),
      ].join("\n") + "\n",
    );
  }
  return ExitCode.ok;
}

function refuse(failure: VerifyFailure, flags: VerifyFlags): number {
  if (flags.json) process.stdout.write(`${JSON.stringify(failure, null, 2)}\n`);
  process.stderr.write(`subflash manifest verify: refused (${failure.code}): ${failure.message}\n`);
  return ExitCode.failed;
}

async function inspect(file: string, flags: { json?: boolean }): Promise<number> {
  const bytes = await readInput(file);
  let envelope = bytes;
  let images: Uint8Array[] | undefined;
  if (looksLikeBundle(bytes)) {
    const bundle = decodeBundle(bytes);
    if (!bundle.ok) throw new UsageError(`${file}: ${bundle.reason}`);
    envelope = bundle.parts.signedManifest;
    images = bundle.parts.images;
  }
  const cose = decodeCose(envelope);
  if (!cose.ok) throw new UsageError(`${file}: not a bundle or signed manifest/command: ${cose.reason}`);
  const message = cose.message;
  const signers = (message.kind === "sign1" ? [message] : message.signatures).map((s) => {
    const kid = s.protectedHeader.get(HeaderLabel.kid);
    return kid instanceof Uint8Array ? toHex(kid) : "(no kid)";
  });
  const contentType = message.protectedHeader.get(HeaderLabel.contentType);
  const envelopeInfo = {
    structure: message.kind === "sign1" ? "COSE_Sign1" : "COSE_Sign",
    contentType,
    signers,
    signaturesVerified: false,
  };

  let body: { json: unknown; text: string };
  if (contentType === ContentType.command) {
    const decoded = decodeCommandPayload(message.payload);
    if (!decoded.ok) throw new UsageError(`${file}: ${decoded.message}`);
    body = { json: commandToJson(decoded.value), text: formatCommand(decoded.value) };
  } else {
    const decoded = decodeManifestPayload(message.payload);
    if (!decoded.ok) throw new UsageError(`${file}: ${decoded.message}`);
    body = { json: manifestToJson(decoded.value), text: formatManifest(decoded.value) };
  }
  const bundleInfo = images && { images: images.map((image, index) => ({ index, bytes: image.length })) };
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ envelope: envelopeInfo, ...(bundleInfo && { bundle: bundleInfo }), payload: body.json }, null, 2)}\n`,
    );
    return ExitCode.ok;
  }
  const lines = [
    `${images ? `bundle       ${bytes.length} bytes, ${images.length} inline image(s)\n` : ""}envelope     ${envelopeInfo.structure}, ${String(contentType)}`,
    `signers      ${signers.join(", ")}  (signatures NOT verified; use subflash manifest verify)`,
    body.text,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return ExitCode.ok;
}

function policyInput(flags: VerifyFlags): PolicyInput {
  const now = flags.now !== undefined ? parseInstant(flags.now) : new Date();
  if (!now) throw new UsageError(`--now must be an ISO-8601 instant, got "${flags.now}"`);
  if (flags.groups !== undefined && flags.gateway === undefined)
    throw new UsageError("--groups needs --gateway");
  const input: PolicyInput = {
    now,
    skewSeconds: flags.skew !== undefined ? parseNumber(flags.skew, "--skew") : DEFAULT_SKEW_SECONDS,
  };
  if (flags.gateway !== undefined) {
    input.gateway = {
      id: flags.gateway,
      groups: (flags.groups ?? "")
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean),
    };
  }
  if (flags.lastSequence !== undefined)
    input.lastSequence = parseNumber(flags.lastSequence, "--last-sequence");
  if (flags.floor) {
    input.securityFloors = Object.fromEntries(
      pairs(flags.floor, "--floor").map(([type, n]) => [type, parseNumber(n, `--floor ${type}`)]),
    );
  }
  if (flags.installed) input.installedVersions = Object.fromEntries(pairs(flags.installed, "--installed"));
  return input;
}

function pairs(values: readonly string[], option: string): Array<[string, string]> {
  return values.map((value) => {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1)
      throw new UsageError(`${option} expects type=value, got "${value}"`);
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

async function readInput(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${describeFsError(error)}`);
  }
}
