/**
 * A watchdog per phase (ota-landscape §3.1: updates stuck "in progress" forever): the phase gets an
 * AbortSignal, and when its budget runs out the signal fires, `onExpire` runs (the caller closes the
 * module's port so that a read blocked in the link layer returns at once) and the phase fails with
 * "phase-timeout" naming the module, phase and budget.
 */
import { GatewayError } from "../errors.js";

export interface WatchdogSpec {
  module: string;
  phase: string;
  ms: number;
  /** A parent signal (cancel, engine stop): aborting it aborts the phase too. */
  signal?: AbortSignal;
  onExpire?: () => void;
}

export async function withWatchdog<T>(
  spec: WatchdogSpec,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timeout = new GatewayError(
    "phase-timeout",
    `module ${spec.module}: ${spec.phase} did not finish within ${spec.ms} ms`,
    {
      module: spec.module,
      phase: spec.phase,
      timeoutMs: spec.ms,
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const onParentAbort = (): void => controller.abort(spec.signal?.reason);
  spec.signal?.addEventListener("abort", onParentAbort, { once: true });
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timeout);
      try {
        spec.onExpire?.();
      } finally {
        reject(timeout);
      }
    }, spec.ms);
  });
  const work = fn(controller.signal);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onParentAbort);
    // The phase may still settle after the watchdog fired; its outcome no longer matters.
    work.catch(() => {});
    expired.catch(() => {});
  }
}

/** A sleep that ends early (rejecting) when the signal aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
