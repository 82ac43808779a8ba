/**
 * The trust store: which Ed25519 public keys may sign manifests and commands for this gateway, each
 * with an optional validity window, and how many distinct trusted keys must sign (threshold, k of n).
 *
 * File format (JSON, documented in docs/manifest.md):
 *   { "format": "subflash-trust-store", "version": 1, "threshold": 1,
 *     "keys": [{ "id": "<16 hex>", "publicKey": "<64 hex>", "label": "…", "notBefore": "ISO-8601", "notAfter": "ISO-8601" }] }
 * A key's id must be the one derived from its public key, so an entry cannot claim another key's id.
 */
import { rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { fromHex, toHex } from "./bytes.js";
import { PUBLIC_KEY_BYTES, publicKeyWeakness } from "./ed25519.js";
import { SigningError } from "./errors.js";
import { describeFsError, describeIssues, parseJson, readText } from "./json-file.js";
import { KEY_ID_PATTERN, keyId } from "./keys.js";

export const TRUST_STORE_FORMAT = "subflash-trust-store";

export interface TrustedKey {
  id: string;
  publicKey: Uint8Array;
  label?: string;
  /** Signatures by this key count only at or after this instant. */
  notBefore?: Date;
  /** Signatures by this key count only before this instant. */
  notAfter?: Date;
}

export interface TrustStore {
  /** Distinct trusted keys whose valid signatures a manifest or command needs (≥ 1). */
  threshold: number;
  keys: readonly TrustedKey[];
}

const isoInstant = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
    "expected an ISO-8601 date-time such as 2026-01-01T00:00:00Z",
  );

const keyEntrySchema = z
  .object({
    id: z.string().regex(KEY_ID_PATTERN, "expected 16 lower-case hex digits"),
    publicKey: z.string().regex(/^[0-9a-fA-F]{64}$/, `expected ${PUBLIC_KEY_BYTES * 2} hex digits`),
    label: z.string().max(200).optional(),
    notBefore: isoInstant.optional(),
    notAfter: isoInstant.optional(),
  })
  .strict();

const trustStoreSchema = z
  .object({
    format: z.literal(TRUST_STORE_FORMAT),
    version: z.literal(1),
    threshold: z.number().int().min(1),
    keys: z.array(keyEntrySchema).min(1),
  })
  .strict();

/**
 * Validates a parsed trust store document. Throws SigningError "bad-trust-store" naming every
 * problem (field path, key id) at once.
 */
export function parseTrustStore(document: unknown, source = "trust store"): TrustStore {
  const parsed = trustStoreSchema.safeParse(document);
  if (!parsed.success) {
    throw new SigningError("bad-trust-store", `${source}: ${describeIssues(parsed.error.issues)}`, {
      source,
    });
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const keys = parsed.data.keys.map((entry, index): TrustedKey => {
    const publicKey = fromHex(entry.publicKey.toLowerCase())!;
    const derived = keyId(publicKey);
    if (derived !== entry.id)
      problems.push(`keys.${index}.id: ${entry.id} is not the id of this public key (${derived})`);
    if (seen.has(derived)) problems.push(`keys.${index}: key ${derived} is listed twice`);
    seen.add(derived);
    const weakness = publicKeyWeakness(publicKey);
    if (weakness) problems.push(`keys.${index}.publicKey: ${weakness}`);
    const key: TrustedKey = { id: derived, publicKey };
    if (entry.label !== undefined) key.label = entry.label;
    if (entry.notBefore !== undefined) key.notBefore = new Date(entry.notBefore);
    if (entry.notAfter !== undefined) key.notAfter = new Date(entry.notAfter);
    if (key.notBefore && key.notAfter && key.notBefore >= key.notAfter) {
      problems.push(`keys.${index}: notBefore must be before notAfter`);
    }
    return key;
  });
  if (parsed.data.threshold > keys.length) {
    problems.push(
      `threshold: ${parsed.data.threshold} signatures required but only ${keys.length} keys are trusted`,
    );
  }
  if (problems.length > 0)
    throw new SigningError("bad-trust-store", `${source}: ${problems.join("; ")}`, { source });
  return { threshold: parsed.data.threshold, keys };
}

/** Reads and validates a trust store file. Throws SigningError "file-unreadable" or "bad-trust-store". */
export async function loadTrustStore(path: string): Promise<TrustStore> {
  const read = await readText(path);
  if ("error" in read)
    throw new SigningError("file-unreadable", `trust store ${path}: ${read.error}`, { path });
  const json = parseJson(read.text);
  if ("error" in json)
    throw new SigningError("bad-trust-store", `trust store ${path}: ${json.error}`, { path });
  return parseTrustStore(json.value, `trust store ${path}`);
}

/** The JSON document of a trust store (what loadTrustStore reads back). */
export function trustStoreDocument(store: TrustStore): Record<string, unknown> {
  return {
    format: TRUST_STORE_FORMAT,
    version: 1,
    threshold: store.threshold,
    keys: store.keys.map((key) => ({
      id: key.id,
      publicKey: toHex(key.publicKey),
      ...(key.label !== undefined && { label: key.label }),
      ...(key.notBefore && { notBefore: key.notBefore.toISOString() }),
      ...(key.notAfter && { notAfter: key.notAfter.toISOString() }),
    })),
  };
}

/** The trusted key with this id, if any. */
export function findTrustedKey(store: TrustStore, id: string): TrustedKey | undefined {
  return store.keys.find((key) => key.id === id);
}

/** Whether signatures by the key count at this instant (inside its validity window). */
export function isKeyValidAt(key: TrustedKey, now: Date): boolean {
  return (!key.notBefore || now >= key.notBefore) && (!key.notAfter || now < key.notAfter);
}

/** Writes a trust store file atomically (temporary file, then rename), so a reader never sees half a file. */
export async function saveTrustStore(path: string, store: TrustStore): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(trustStoreDocument(store), null, 2)}\n`, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    throw new SigningError("file-unwritable", `cannot write trust store ${path}: ${describeFsError(error)}`, {
      path,
    });
  }
}
