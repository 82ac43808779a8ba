/**
 * Key files written by `subflash keygen --out <prefix>`:
 *   <prefix>.key  the secret key, mode 0600 (owner only), refused when group or others can read it;
 *   <prefix>.pub  the public key, whose fields paste straight into a trust store's "keys" list.
 * Both are small JSON documents (format in docs/manifest.md); the id is always derived from the key.
 */
import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { fromHex, toHex } from "./bytes.js";
import { SigningError } from "./errors.js";
import { describeFsError, describeIssues, parseJson, readText } from "./json-file.js";
import { KEY_ID_PATTERN, createSigningKey, keyId, type SigningKey } from "./keys.js";
import type { TrustedKey } from "./trust-store.js";
import { publicKeyWeakness } from "./ed25519.js";

export const SECRET_KEY_FORMAT = "subflash-ed25519-secret-key";
export const PUBLIC_KEY_FORMAT = "subflash-ed25519-public-key";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits");

const publicSchema = z
  .object({
    format: z.literal(PUBLIC_KEY_FORMAT),
    version: z.literal(1),
    id: z.string().regex(KEY_ID_PATTERN, "expected 16 lower-case hex digits"),
    label: z.string().max(200).optional(),
    publicKey: hex32,
  })
  .strict();

/** The public key file's fields plus the seed, under its own format name. */
const secretSchema = publicSchema.extend({ format: z.literal(SECRET_KEY_FORMAT), seed: hex32 }).strict();

/** Paths of the two files of a key pair. */
export function keyFilePaths(prefix: string): { secretPath: string; publicPath: string } {
  return { secretPath: `${prefix}.key`, publicPath: `${prefix}.pub` };
}

/**
 * Writes <prefix>.key (mode 0600) and <prefix>.pub. Refuses to overwrite either file unless `force`;
 * throws SigningError "key-file-exists" before writing anything.
 */
export async function writeKeyFiles(
  prefix: string,
  key: SigningKey,
  options: { force?: boolean } = {},
): Promise<{ secretPath: string; publicPath: string }> {
  const paths = keyFilePaths(prefix);
  if (!options.force) {
    for (const path of [paths.secretPath, paths.publicPath]) {
      if (await exists(path)) {
        throw new SigningError(
          "key-file-exists",
          `${path} already exists; choose another --out or pass --force`,
          { path },
        );
      }
    }
  }
  try {
    await mkdir(dirname(paths.secretPath), { recursive: true });
  } catch (error) {
    throw new SigningError(
      "file-unwritable",
      `cannot create the folder of ${paths.secretPath}: ${describeFsError(error)}`,
      { path: paths.secretPath },
    );
  }
  const label = key.label !== undefined ? { label: key.label } : {};
  const secret = {
    format: SECRET_KEY_FORMAT,
    version: 1,
    id: key.id,
    ...label,
    seed: toHex(key.seed),
    publicKey: toHex(key.publicKey),
  };
  const pub = {
    format: PUBLIC_KEY_FORMAT,
    version: 1,
    id: key.id,
    ...label,
    publicKey: toHex(key.publicKey),
  };
  await writeFileWithMode(
    paths.secretPath,
    `${JSON.stringify(secret, null, 2)}\n`,
    0o600,
    options.force ?? false,
  );
  await writeFileWithMode(
    paths.publicPath,
    `${JSON.stringify(pub, null, 2)}\n`,
    0o644,
    options.force ?? false,
  );
  return paths;
}

/**
 * Reads a secret key file. Throws SigningError "file-unreadable", "insecure-key-file" (group or
 * others may read it; like ssh, we refuse rather than sign with a key others may have copied) or
 * "bad-key-file" (not a subflash secret key, or its public key or id do not match its seed).
 */
export async function readSigningKey(path: string): Promise<SigningKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    throw new SigningError("file-unreadable", `secret key ${path}: ${describeFsError(error)}`, { path });
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new SigningError(
      "insecure-key-file",
      `secret key ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); run chmod 600 ${path}`,
      { path, mode: mode & 0o777 },
    );
  }
  const value = await readJson(path, "secret key");
  const parsed = secretSchema.safeParse(value);
  if (!parsed.success) {
    throw new SigningError(
      "bad-key-file",
      `secret key ${path}: ${describeSecretIssues(value, parsed.error.issues)}`,
      { path },
    );
  }
  const key = createSigningKey({
    seed: fromHex(parsed.data.seed)!,
    ...(parsed.data.label !== undefined && { label: parsed.data.label }),
  });
  if (toHex(key.publicKey) !== parsed.data.publicKey || key.id !== parsed.data.id) {
    throw new SigningError(
      "bad-key-file",
      `secret key ${path}: publicKey or id do not belong to the seed (file damaged or edited)`,
      {
        path,
      },
    );
  }
  return key;
}

/** Reads a public key file as a trust store entry. Throws SigningError "file-unreadable" or "bad-key-file". */
export async function readPublicKeyFile(path: string): Promise<TrustedKey> {
  const value = await readJson(path, "public key");
  const parsed = publicSchema.safeParse(value);
  if (!parsed.success)
    throw new SigningError("bad-key-file", `public key ${path}: ${describeIssues(parsed.error.issues)}`, {
      path,
    });
  const publicKey = fromHex(parsed.data.publicKey)!;
  const weakness = publicKeyWeakness(publicKey);
  if (weakness) throw new SigningError("bad-key-file", `public key ${path}: ${weakness}`, { path });
  if (keyId(publicKey) !== parsed.data.id) {
    throw new SigningError(
      "bad-key-file",
      `public key ${path}: id ${parsed.data.id} is not the id of this key (${keyId(publicKey)})`,
      {
        path,
      },
    );
  }
  const key: TrustedKey = { id: parsed.data.id, publicKey };
  if (parsed.data.label !== undefined) key.label = parsed.data.label;
  return key;
}

async function readJson(path: string, what: string): Promise<unknown> {
  const read = await readText(path);
  if ("error" in read) throw new SigningError("file-unreadable", `${what} ${path}: ${read.error}`, { path });
  const json = parseJson(read.text);
  if ("error" in json) throw new SigningError("bad-key-file", `${what} ${path}: ${json.error}`, { path });
  return json.value;
}

/** Names the fields only (our messages never echo values), with a hint for the classic mix-up. */
function describeSecretIssues(value: unknown, issues: readonly z.core.$ZodIssue[]): string {
  const format =
    typeof value === "object" && value !== null ? (value as { format?: unknown }).format : undefined;
  if (format === PUBLIC_KEY_FORMAT)
    return "this is a public key file (.pub); signing needs the secret key file (.key)";
  return describeIssues(issues);
}

/** Creates (or with `force` replaces) a file whose mode is exactly `mode`, whatever the umask or the old file's mode. */
async function writeFileWithMode(path: string, text: string, mode: number, force: boolean): Promise<void> {
  let handle;
  try {
    handle = await open(path, force ? "w" : "wx", mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new SigningError(
        "key-file-exists",
        `${path} already exists; choose another --out or pass --force`,
        { path },
      );
    }
    throw new SigningError("file-unwritable", `cannot write ${path}: ${describeFsError(error)}`, { path });
  }
  try {
    await handle.chmod(mode);
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
