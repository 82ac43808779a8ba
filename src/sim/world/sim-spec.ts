/**
 * The file `subflash daemon --simulate <file>` reads: which simulated module stands in for each
 * configured module, and where it keeps its flash, so a gateway can run end to end (MQTT included)
 * with no hardware — for trying a configuration, for CI, and for the crash tests that kill the
 * daemon process and start it again.
 *
 *   timing: true                  # simulated wire and flash time (default true)
 *   modules:
 *     power:                      # a module id of the gateway config
 *       flashFile: power.flash    # relative to this file; created from the factory firmware
 *       bootloaderVersion: 0x33   # optional: the USART bootloader version byte (0x33: Get Checksum)
 *       factory: { version: "1.0.0", size: 8192 }
 *
 * The module's device, layout and baud come from the gateway configuration.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { GatewayConfig, ModuleConfig } from "../../gateway/index.js";
import { SIM_BEHAVIOURS } from "../firmware/image-format.js";
import type { SimModuleOptions } from "./sim-modules.js";

const moduleSpec = z.strictObject({
  flashFile: z.string().min(1).optional(),
  baud: z.number().int().positive().optional(),
  /** USART bootloader version byte; 0x33 offers Get Checksum (AN3155 §3.11). */
  bootloaderVersion: z.number().int().min(0).max(0xff).optional(),
  factory: z
    .strictObject({
      version: z.string().min(1).max(20),
      size: z
        .number()
        .int()
        .min(64)
        .max(1 << 20)
        .optional(),
      behaviour: z.enum(SIM_BEHAVIOURS).optional(),
    })
    .optional(),
});

const specSchema = z.strictObject({
  timing: z.boolean().default(true),
  modules: z.record(z.string(), moduleSpec),
});

export type SimSpec = z.infer<typeof specSchema>;

/** Reads and checks a simulation file against the gateway configuration; throws an Error listing every problem. */
export function loadSimSpec(path: string, config: GatewayConfig): (module: ModuleConfig) => SimModuleOptions {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const parsed = specSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
  if (parsed.success) {
    for (const m of config.modules)
      if (!parsed.data.modules[m.id])
        problems.push(`modules.${m.id}: missing (every configured module needs a simulated one)`);
    for (const id of Object.keys(parsed.data.modules)) {
      if (!config.modules.some((m) => m.id === id))
        problems.push(`modules.${id}: no such module in the gateway configuration`);
    }
  }
  if (!parsed.success || problems.length > 0)
    throw new Error(`${path}: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  const spec = parsed.data;
  const base = dirname(resolve(path));
  return (module) => {
    const m = spec.modules[module.id] ?? {};
    return {
      timing: spec.timing,
      ...(m.baud !== undefined ? { baud: m.baud } : {}),
      ...(m.bootloaderVersion !== undefined ? { bootloaderVersion: m.bootloaderVersion } : {}),
      ...(m.flashFile !== undefined
        ? { flashFile: isAbsolute(m.flashFile) ? m.flashFile : resolve(base, m.flashFile) }
        : {}),
      ...(m.factory ? { factory: m.factory } : {}),
    };
  };
}
