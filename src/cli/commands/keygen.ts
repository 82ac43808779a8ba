/**
 * `subflash keygen --out <prefix>`: a new Ed25519 signing key as <prefix>.key (secret, mode 0600)
 * and <prefix>.pub (public), optionally added to a trust store file.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import {
  createSigningKey,
  loadTrustStore,
  saveTrustStore,
  writeKeyFiles,
  type TrustStore,
} from "../../signing/index.js";
import { action, ExitCode } from "../run.js";

interface KeygenFlags {
  out: string;
  label?: string;
  force?: boolean;
  trust?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("keygen")
    .description("Create an Ed25519 signing key: <prefix>.key (secret, owner-only) and <prefix>.pub")
    .requiredOption("--out <prefix>", "path prefix of the key files, e.g. keys/release-2026")
    .option("--label <text>", "a label stored with the key (who or what it is for)")
    .option(
      "--trust <trust.json>",
      "also add the public key to this trust store (created with threshold 1 if missing)",
    )
    .option("--force", "overwrite existing key files")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nThe key id is the first 8 bytes of SHA-256(public key), in hex. Keep the .key file offline;\n" +
        "give the .pub file (or the trust store) to the gateways.",
    )
    .action(action("keygen", (flags: KeygenFlags) => keygen(flags)));
}

async function keygen(flags: KeygenFlags): Promise<number> {
  const key = createSigningKey(flags.label !== undefined ? { label: flags.label } : {});
  const { secretPath, publicPath } = await writeKeyFiles(flags.out, key, { force: flags.force ?? false });
  let trust: { path: string; keys: number; threshold: number } | undefined;
  if (flags.trust !== undefined) {
    const store: TrustStore = existsSync(flags.trust)
      ? await loadTrustStore(flags.trust)
      : { threshold: 1, keys: [] };
    const entry = {
      id: key.id,
      publicKey: key.publicKey,
      ...(key.label !== undefined && { label: key.label }),
    };
    const updated: TrustStore = {
      threshold: store.threshold,
      keys: [...store.keys.filter((k) => k.id !== key.id), entry],
    };
    await saveTrustStore(flags.trust, updated);
    trust = { path: flags.trust, keys: updated.keys.length, threshold: updated.threshold };
  }
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ id: key.id, secretKey: secretPath, publicKey: publicPath, ...(trust && { trustStore: trust }) }, null, 2)}\n`,
    );
    return ExitCode.ok;
  }
  const lines = [
    `key id       ${key.id}`,
    `secret key   ${secretPath}  (mode 0600; keep it offline)`,
    `public key   ${publicPath}`,
    ...(trust ? [`trust store  ${trust.path}  (${trust.keys} key(s), threshold ${trust.threshold})`] : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return ExitCode.ok;
}
