/** Shared set-up for the STM32 protocol tests: simulated modules with the timing model off and a fast link. */
import {
  createSimulatedModule,
  type SimOptions,
  type SimulatedModule,
} from "../../../src/sim/module/index.js";
import { Bootloader, type ConnectOptions } from "../../../src/targets/stm32/bootloader.js";
import type { FirmwareImage } from "../../../src/targets/image/image.js";
import type { UsartLinkOptions } from "../../../src/targets/stm32/link.js";
import type { Logger } from "../../../src/util/logger.js";

/**
 * With the simulator's timing off every reply is immediate, so short budgets keep fault tests fast
 * (a power cut costs a few failed activations) while leaving room for a busy CI machine.
 */
export const FAST_LINK: UsartLinkOptions = {
  timeouts: { latencyMs: 300 },
  activationTimeoutMs: 250,
  resyncRounds: 2,
};

export function sim(device: string, options: Partial<SimOptions> = {}): SimulatedModule {
  return createSimulatedModule({ device, timing: false, ...options });
}

export async function connect(module: SimulatedModule, options: ConnectOptions = {}): Promise<Bootloader> {
  return Bootloader.connect(module.openUsart(), { link: FAST_LINK, ...options });
}

/** Deterministic, non-blank test data. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
    if (out[i] === 0xff) out[i] = 0x5a;
  }
  return out;
}

export function image(
  address: number,
  data: Uint8Array,
  ...more: { address: number; data: Uint8Array }[]
): FirmwareImage {
  return { format: "bin", source: "test.bin", segments: [{ address, data }, ...more] };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A Logger that records every call (bindings of children merged in), for asserting on log output. */
export function captureLogger(levels: readonly string[] = ["trace", "debug", "info", "warn", "error"]): {
  logger: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (obj: object, msg?: string): void => {
        if (levels.includes(level))
          lines.push({ level, obj: { ...bindings, ...(obj as Record<string, unknown>) }, msg });
      };
    return {
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => make({ ...bindings, ...more }),
      isLevelEnabled: (level) => levels.includes(level),
    };
  };
  return { logger: make({}), lines };
}
