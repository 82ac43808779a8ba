/**
 * Content-addressed image store in the state directory (`images/sha256/<hex>`): the new images of a
 * bundle, and the confirmed and previous image of every module, so that any failure can be undone
 * locally (a `single` module is rolled back by re-flashing its previous image from here). Files are
 * written atomically and checked against their name when read.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256, toHex } from "../../signing/index.js";
import { ensureDirectory, writeFileAtomic } from "./atomic-file.js";
import { GatewayError } from "../errors.js";
import type { HaltGate } from "../run/halt.js";

const DIGEST = /^[0-9a-f]{64}$/;

export class ImageStore {
  readonly dir: string;
  readonly partialDir: string;
  readonly #gate: HaltGate;

  constructor(stateDir: string, gate: HaltGate) {
    this.dir = join(stateDir, "images", "sha256");
    this.partialDir = join(stateDir, "images", "partial");
    this.#gate = gate;
  }

  async init(): Promise<void> {
    await ensureDirectory(this.dir);
    await ensureDirectory(this.partialDir);
  }

  pathOf(digest: string): string {
    if (!DIGEST.test(digest)) throw new RangeError(`"${digest}" is not a lower-case SHA-256 hex digest`);
    return join(this.dir, digest);
  }

  /** Where a download of this image accumulates until it is complete and verified. */
  partialPathOf(digest: string): string {
    this.pathOf(digest);
    return join(this.partialDir, `${digest}.part`);
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** Stores bytes under their SHA-256 and returns the digest; a no-op when already present. */
  async put(bytes: Uint8Array): Promise<string> {
    const digest = toHex(sha256(bytes));
    if (await this.has(digest)) return digest;
    await this.#gate.pass(() => writeFileAtomic(this.pathOf(digest), bytes, this.#gate.commitPoint));
    return digest;
  }

  /** The image's bytes, checked against the digest. Throws "image-unavailable" when missing or damaged. */
  async get(digest: string, context: Record<string, unknown> = {}): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.pathOf(digest)));
    } catch (error) {
      throw new GatewayError(
        "image-unavailable",
        `image ${digest.slice(0, 12)}… is not in the image store ${this.dir}`,
        { ...context, digest },
        { cause: error },
      );
    }
    if (toHex(sha256(bytes)) !== digest) {
      await rm(this.pathOf(digest), { force: true });
      throw new GatewayError(
        "image-unavailable",
        `image ${digest.slice(0, 12)}… in the image store is damaged (SHA-256 mismatch); it was removed`,
        {
          ...context,
          digest,
        },
      );
    }
    return bytes;
  }

  /** Removes every stored image not in `keep` (and stale partial downloads not in `keep`). Returns how many went. */
  async prune(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (DIGEST.test(name) && !keep.has(name)) {
        await rm(join(this.dir, name), { force: true });
        removed++;
      }
    }
    for (const name of await readdir(this.partialDir).catch(() => [] as string[])) {
      if (!keep.has(name.replace(/\.part$/, ""))) await rm(join(this.partialDir, name), { force: true });
    }
    return removed;
  }
}
