/**
 * HTTPS image download into the image store: resumes an interrupted transfer with a Range request
 * from what the partial file already holds, refuses more bytes than the manifest announced (endless
 * data), and only moves the file into the store after its SHA-256 matches. Retries are bounded.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import type { IncomingMessage } from "node:http";
import { silentLogger, type Logger } from "../../util/logger.js";
import { syncDirectory } from "./atomic-file.js";
import { GatewayError } from "../errors.js";
import type { ImageStore } from "./image-store.js";

export interface DownloadOptions {
  /** Extra trusted CA certificates (PEM). */
  ca?: string | Buffer;
  attempts: number;
  /** Silence on the connection longer than this aborts the attempt. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  logger?: Logger;
}

const RETRY_DELAY_MS = 500;

/** Ensures the image `digest` (of `size` bytes) is in the store, downloading it from `url` if needed. */
export async function fetchImage(
  store: ImageStore,
  url: string,
  expected: { digest: string; size: number },
  options: DownloadOptions,
): Promise<void> {
  if (await store.has(expected.digest)) return;
  const log = options.logger ?? silentLogger;
  if (!url.startsWith("https://")) {
    throw new GatewayError("download-failed", `image URL ${url} is not https`, { url });
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    options.signal?.throwIfAborted();
    try {
      await attemptDownload(store, url, expected, options);
      return;
    } catch (error) {
      lastError = error;
      if (options.signal?.aborted) throw error;
      log.warn(
        { url, attempt, of: options.attempts, err: (error as Error).message },
        "image download failed, retrying",
      );
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
    }
  }
  throw new GatewayError(
    "download-failed",
    `downloading ${url} failed after ${options.attempts} attempts: ${(lastError as Error | undefined)?.message ?? "unknown error"}`,
    { url, digest: expected.digest },
    { cause: lastError },
  );
}

async function attemptDownload(
  store: ImageStore,
  url: string,
  expected: { digest: string; size: number },
  options: DownloadOptions,
): Promise<void> {
  const partial = store.partialPathOf(expected.digest);
  let have = await stat(partial).then(
    (s) => s.size,
    () => 0,
  );
  if (have > expected.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  if (have < expected.size) {
    const response = await request(url, have, options);
    if (response.statusCode === 200 && have > 0)
      have = 0; // the server ignored Range: start over
    else if (response.statusCode !== 200 && response.statusCode !== 206) {
      response.resume();
      throw new Error(`HTTP ${response.statusCode ?? "?"} from ${url}`);
    }
    await appendBody(response, partial, have, expected.size, options);
  }
  const digest = await hashFile(partial);
  if (digest !== expected.digest) {
    await rm(partial, { force: true });
    throw new Error(
      `SHA-256 of ${url} is ${digest.slice(0, 12)}…, the manifest says ${expected.digest.slice(0, 12)}…`,
    );
  }
  await rename(partial, store.pathOf(expected.digest));
  await syncDirectory(store.dir);
}

function request(url: string, from: number, options: DownloadOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      { ca: options.ca, headers: from > 0 ? { Range: `bytes=${from}-` } : {}, signal: options.signal },
      resolve,
    );
    req.setTimeout(options.idleTimeoutMs ?? 30_000, () =>
      req.destroy(new Error(`no data from ${url} for ${options.idleTimeoutMs ?? 30_000} ms`)),
    );
    req.on("error", reject);
  });
}

async function appendBody(
  response: IncomingMessage,
  path: string,
  offset: number,
  size: number,
  options: DownloadOptions,
): Promise<void> {
  const file = await open(path, offset === 0 ? "w" : "a");
  let done = offset;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (done + chunk.length > size) {
        response.destroy();
        throw new Error(`the server sent more than the ${size} bytes the manifest announced`);
      }
      await file.write(chunk);
      done += chunk.length;
      options.onProgress?.(done, size);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  if (done < size) throw new Error(`the transfer ended after ${done} of ${size} bytes`);
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest("hex");
}
