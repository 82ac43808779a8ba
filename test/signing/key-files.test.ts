import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPublicKeyFile, readSigningKey, writeKeyFiles } from "../../src/signing/key-files.js";
import { createSigningKey, keyId } from "../../src/signing/keys.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "subflash-keys-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("key ids", () => {
  it("are the first 8 bytes of SHA-256 of the public key, in hex", () => {
    const key = createSigningKey({ seed: new Uint8Array(32).fill(5) });
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(key.publicKey)).toBe(key.id);
    expect(createSigningKey({ seed: new Uint8Array(32).fill(6) }).id).not.toBe(key.id);
  });
});

describe("key files", () => {
  it("writes the secret key owner-only and the public key world-readable, in a new folder if needed", async () => {
    const key = createSigningKey({ label: "bench" });
    const { secretPath, publicPath } = await writeKeyFiles(join(dir, "nested", "k1"), key);
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    expect((await stat(publicPath)).mode & 0o777).toBe(0o644);
    const pub = JSON.parse(await readFile(publicPath, "utf8")) as Record<string, unknown>;
    expect(pub).toMatchObject({ format: "subflash-ed25519-public-key", id: key.id, label: "bench" });
    expect(JSON.stringify(pub)).not.toContain(Buffer.from(key.seed).toString("hex"));
  });

  it("reads back the same key from both files", async () => {
    const key = createSigningKey({ label: "round trip" });
    const { secretPath, publicPath } = await writeKeyFiles(join(dir, "k2"), key);
    const read = await readSigningKey(secretPath);
    expect(read.id).toBe(key.id);
    expect(Buffer.from(read.secretKey).equals(Buffer.from(key.secretKey))).toBe(true);
    expect(read.label).toBe("round trip");
    const trusted = await readPublicKeyFile(publicPath);
    expect(trusted).toMatchObject({ id: key.id, label: "round trip" });
  });

  it("refuses to overwrite existing files unless forced, and then still writes mode 0600", async () => {
    const prefix = join(dir, "k3");
    const first = createSigningKey();
    await writeKeyFiles(prefix, first);
    await expect(writeKeyFiles(prefix, createSigningKey())).rejects.toMatchObject({
      code: "key-file-exists",
    });
    expect((await readSigningKey(`${prefix}.key`)).id).toBe(first.id);
    await chmod(`${prefix}.key`, 0o644);
    const second = createSigningKey();
    await writeKeyFiles(prefix, second, { force: true });
    expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600);
    expect((await readSigningKey(`${prefix}.key`)).id).toBe(second.id);
  });

  it("refuses a secret key file that group or others can read", async () => {
    const { secretPath } = await writeKeyFiles(join(dir, "k4"), createSigningKey());
    await chmod(secretPath, 0o640);
    await expect(readSigningKey(secretPath)).rejects.toMatchObject({
      code: "insecure-key-file",
      message: expect.stringContaining("chmod 600") as unknown,
    });
  });

  it("says so when given the public key file instead of the secret one", async () => {
    const { publicPath } = await writeKeyFiles(join(dir, "k5"), createSigningKey());
    await chmod(publicPath, 0o600);
    await expect(readSigningKey(publicPath)).rejects.toMatchObject({
      code: "bad-key-file",
      message: expect.stringContaining("public key file") as unknown,
    });
  });

  it("refuses a secret key file whose public key does not belong to its seed", async () => {
    const { secretPath } = await writeKeyFiles(join(dir, "k6"), createSigningKey());
    const doc = JSON.parse(await readFile(secretPath, "utf8")) as Record<string, string>;
    doc.publicKey = Buffer.from(createSigningKey().publicKey).toString("hex");
    await writeFile(secretPath, JSON.stringify(doc), { mode: 0o600 });
    await expect(readSigningKey(secretPath)).rejects.toMatchObject({
      code: "bad-key-file",
      message: expect.stringContaining("do not belong") as unknown,
    });
  });

  it("reports a missing key file as file-unreadable with its path", async () => {
    await expect(readSigningKey(join(dir, "none.key"))).rejects.toMatchObject({
      code: "file-unreadable",
      message: expect.stringContaining("none.key") as unknown,
    });
  });
});
