/**
 * `subflash release create <spec> --key <k> [--key <k2>…] --out <bundle>`: builds and signs an
 * update bundle from a release spec (YAML), computing sizes, digests and CRCs of every image.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  buildRelease,
  formatManifest,
  manifestToJson,
  parseInstant,
  readReleaseSpec,
} from "../../manifest/index.js";
import { readSigningKey } from "../../signing/index.js";
import { describeFsError } from "../../signing/index.js";
import { action, ExitCode, parseNumber, UsageError } from "../run.js";

interface CreateFlags {
  key: string[];
  out: string;
  sequence?: string;
  expires?: string;
  issuedAt?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function register(program: Command): void {
  const release = program.command("release").description("Build signed update bundles");
  release
    .command("create <spec>")
    .description(
      "Build and sign a bundle from a release spec (YAML): module types, versions, image files, targets, policy",
    )
    .requiredOption(
      "--key <file>",
      "secret key file (.key) to sign with; repeat for several signatures (k of n)",
      collect,
    )
    .requiredOption("--out <bundle>", "where to write the bundle")
    .option("--sequence <n>", "manifest sequence number (default: the spec's, else the current time in ms)")
    .option(
      "--expires <when>",
      "expiry: a duration after issue (30d, 12h) or an ISO-8601 instant (default: the spec's, else 30d)",
    )
    .option("--issued-at <iso>", "issue time (default: the spec's, else now)")
    .option("--json", "print the manifest as JSON")
    .addHelpText("after", '\nThe spec format is documented in docs/manifest.md ("Release spec").')
    .action(action("release create", (spec: string, flags: CreateFlags) => create(spec, flags)));
}

async function create(specPath: string, flags: CreateFlags): Promise<number> {
  const issuedAt = flags.issuedAt !== undefined ? instantOption(flags.issuedAt, "--issued-at") : undefined;
  const sequence = flags.sequence !== undefined ? parseNumber(flags.sequence, "--sequence") : undefined;
  if (sequence === 0) throw new UsageError("--sequence must be at least 1");
  const spec = await readReleaseSpec(specPath);
  const keys = await Promise.all(flags.key.map((path) => readSigningKey(path)));
  const built = await buildRelease(spec, {
    keys,
    ...(sequence !== undefined && { sequence }),
    ...(issuedAt && { issuedAt }),
    ...(flags.expires !== undefined && { expires: flags.expires }),
  });
  try {
    await writeFile(flags.out, built.bundle);
  } catch (error) {
    throw new UsageError(`cannot write ${flags.out}: ${describeFsError(error)}`);
  }
  const signedBy = keys.map((k) => k.id);
  if (flags.json) {
    const summary = {
      bundle: flags.out,
      bytes: built.bundle.length,
      signedBy,
      manifest: manifestToJson(built.manifest),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${formatManifest(built.manifest)}\nsigned by    ${signedBy.join(", ")}\nwrote        ${flags.out} (${built.bundle.length} bytes, ${built.images.length} inline image(s))\n`,
    );
  }
  return ExitCode.ok;
}

function instantOption(text: string, option: string): Date {
  const date = parseInstant(text);
  if (!date) throw new UsageError(`${option} must be an ISO-8601 instant, got "${text}"`);
  return date;
}
