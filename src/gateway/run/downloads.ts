/**
 * Images a bundle names by URL are fetched before any module is touched (state "downloading"); an
 * image that cannot be fetched fails its job, so with all-or-nothing nothing is written at all.
 * Re-running after a restart fetches only what is missing and resumes partial downloads.
 */
import { readFile } from "node:fs/promises";
import type { GatewayConfig } from "../config/config.js";
import { fetchImage } from "../store/download.js";
import { moduleError } from "../module/job-env.js";
import type { RunHostParts } from "./host.js";
import type { RunRecord } from "./types.js";

export async function fetchRunImages(
  parts: RunHostParts,
  run: RunRecord,
  signal: AbortSignal,
  config: GatewayConfig,
): Promise<void> {
  const pending = run.jobs.filter(
    (j) => j.step === "pending" && Object.values(j.target.images).some((r) => r.url),
  );
  if (pending.length === 0) return;
  const ca = config.downloads.ca ? await readFile(config.downloads.ca) : undefined;
  for (const job of pending) {
    try {
      for (const ref of Object.values(job.target.images)) {
        if (!ref.url || !ref.digest || (await parts.images.has(ref.digest))) continue;
        parts.board.update(job.module, {
          state: "downloading",
          progress: { phase: "download", done: 0, total: ref.length, percent: 0 },
        });
        await fetchImage(
          parts.images,
          ref.url,
          { digest: ref.digest, size: ref.length },
          {
            ca,
            attempts: config.downloads.attempts,
            idleTimeoutMs: config.downloads.idleTimeoutMs,
            signal,
            logger: parts.log.child({ module: job.module }),
            onProgress: (done, total) =>
              parts.board.update(job.module, {
                progress: { phase: "download", done, total, percent: Math.round((done / total) * 1000) / 10 },
              }),
          },
        );
      }
      parts.board.update(job.module, { state: "queued", progress: null });
    } catch (error) {
      job.step = "failed";
      job.error = moduleError(job.module, error);
      run.firstError ??= job.error;
      await parts.journal.write(run, `${job.module}: download failed`);
      parts.board.update(job.module, { state: "failed", lastError: job.error, progress: null });
    }
  }
}
