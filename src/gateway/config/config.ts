/**
 * Loads and validates the gateway configuration (design decision 9): one YAML or JSON file, checked
 * once at start-up, every problem reported at once as "path: message". Beyond the shape (config-schema.ts)
 * it checks what needs the device table: slots inside flash, A/B slots and boot-record copies on
 * erase-unit boundaries so that erasing one never touches another.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { DeviceInfo } from "../../targets/index.js";
import { eraseUnits } from "../../targets/index.js";
import { findDevice, resolveDevice } from "../../targets/index.js";
import { parseLineSequence } from "../../targets/index.js";
import { i2cAddressName, i2cTransactionMs, parseI2cBus } from "../../targets/index.js";
import { wireMs } from "../../targets/index.js";
import { addr } from "../../util/logger.js";
import { BOOT_RECORD_SIZE } from "../../targets/index.js";
import { parseByteString } from "./byte-string.js";
import type { GatewayConfig, I2cConfig, ModuleConfig, UsartConfig } from "./schema.js";
import { configSchema } from "./schema.js";
import { ConfigError } from "../errors.js";

export * from "./schema.js";

/** Reads, parses and validates a configuration file. Throws ConfigError listing every problem. */
export function loadConfig(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("config-unreadable", path, [`cannot read the file: ${(error as Error).message}`], {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      "config-syntax",
      path,
      [`not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message}`],
      {
        cause: error,
      },
    );
  }
  return parseConfig(raw, { file: path, baseDir: dirname(resolve(path)) });
}

/**
 * Validates an already parsed configuration object (the demo and tests build one in memory).
 * Relative paths (trustStore, stateDir, TLS files, download CA) are resolved against `baseDir`.
 */
export function parseConfig(
  raw: unknown,
  where: { file?: string; baseDir?: string; checkFiles?: boolean } = {},
): GatewayConfig {
  const file = where.file ?? "<config>";
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      "config-invalid",
      file,
      parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  }
  const config = resolvePaths(parsed.data, where.baseDir ?? process.cwd());
  const problems = semanticProblems(config, where.checkFiles ?? true);
  if (problems.length > 0) throw new ConfigError("config-invalid", file, problems);
  return config;
}

/** The device table entry a module is configured for (validated by parseConfig). */
export function moduleDevice(module: ModuleConfig): DeviceInfo {
  return typeof module.device === "number"
    ? resolveDevice(`0x${module.device.toString(16)}`)
    : resolveDevice(module.device);
}

/**
 * The bus a module sits on: modules sharing it are updated one at a time. Two modules on the same
 * USART path share it (a multi-drop or multiplexed line), and so do modules on the same I2C bus,
 * whatever their addresses and however the bus is written (1, "i2c-1", "/dev/i2c-1").
 */
export function busOf(module: ModuleConfig): string {
  const { i2c } = module.transport;
  return i2c ? `i2c:${parseI2cBus(i2c.bus)}` : `usart:${usartOf(module).path}`;
}

/** The module's port for messages and logs: the USART device path, or "/dev/i2c-N@0x51". */
export function portOf(module: ModuleConfig): string {
  const { i2c } = module.transport;
  return i2c ? `/dev/i2c-${parseI2cBus(i2c.bus)}@${i2cAddressName(i2c.address)}` : usartOf(module).path;
}

/** The module's I2C settings, or undefined for a USART module. */
export function i2cOf(module: ModuleConfig): I2cConfig | undefined {
  return module.transport.i2c;
}

/** The module's USART settings. Throws for an I2C module (callers check i2cOf first). */
export function usartOf(module: ModuleConfig): UsartConfig {
  const { usart } = module.transport;
  if (!usart) throw new TypeError(`module ${module.id} has no USART transport`);
  return usart;
}

/** Time `bytes` take on the module's bootloader line, ms: 11 bits a byte on USART (8E1), 9 on I2C. */
export function lineMs(module: ModuleConfig, bytes: number): number {
  const { i2c } = module.transport;
  // Per 256-byte frame on I2C: one transaction's START, address and STOP (≈ 1 byte more).
  return i2c ? i2cTransactionMs(bytes * (1 + 1 / 256), i2c.clockHz) : wireMs(bytes, usartOf(module).baud);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `${out ? "." : ""}${String(part)}`;
  return out || "(root)";
}

function resolvePaths(config: GatewayConfig, baseDir: string): GatewayConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const mqtt = config.mqtt && {
    ...config.mqtt,
    tls: config.mqtt.tls && {
      ...config.mqtt.tls,
      ca: config.mqtt.tls.ca && abs(config.mqtt.tls.ca),
      cert: config.mqtt.tls.cert && abs(config.mqtt.tls.cert),
      key: config.mqtt.tls.key && abs(config.mqtt.tls.key),
    },
  };
  return {
    ...config,
    mqtt,
    trustStore: abs(config.trustStore),
    stateDir: abs(config.stateDir),
    state: { ...config.state, mirrorDir: config.state.mirrorDir && abs(config.state.mirrorDir) },
    downloads: { ...config.downloads, ca: config.downloads.ca && abs(config.downloads.ca) },
  };
}

function semanticProblems(config: GatewayConfig, checkFiles: boolean): string[] {
  const problems: string[] = [];
  if (checkFiles && !existsSync(config.trustStore))
    problems.push(`trustStore: ${config.trustStore} does not exist`);
  if (checkFiles && config.downloads.ca && !existsSync(config.downloads.ca))
    problems.push(`downloads.ca: ${config.downloads.ca} does not exist`);
  if (config.http && !config.http.token && !isLoopback(config.http.listen))
    problems.push(
      `http.listen: ${config.http.listen} is reachable beyond this machine; give http.token (a bearer token) or listen on 127.0.0.1`,
    );
  const seen = new Map<string, number>();
  config.modules.forEach((module, index) => {
    const at = `modules[${index}]`;
    const first = seen.get(module.id);
    if (first !== undefined) problems.push(`${at}.id: "${module.id}" is already used by modules[${first}]`);
    else seen.set(module.id, index);
    problems.push(...moduleProblems(module, at));
  });
  problems.push(...sharedGpioProblems(config.modules));
  return problems;
}

/**
 * Two modules whose BOOT0 or NRST is the same GPIO line (chip and offset) would be driven at once
 * when their buses run in parallel: one module's reset would hit the other mid-write. Allowed only
 * on the same bus, where updates are serialised.
 */
function sharedGpioProblems(modules: readonly ModuleConfig[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, { index: number; bus: string; pin: string }>();
  modules.forEach((module, index) => {
    const entry = module.entry;
    if (entry.method !== "gpio") return;
    const chip = entry.chip.replace(/^\/dev\//, "");
    for (const pin of ["boot0", "nrst"] as const) {
      const line = `${chip}:${entry[pin]}`;
      const owner = owners.get(line);
      if (!owner) {
        owners.set(line, { index, bus: busOf(module), pin });
        continue;
      }
      if (owner.bus === busOf(module)) continue;
      problems.push(
        `modules[${index}].entry.${pin}: GPIO line ${entry[pin]} of ${chip} is also modules[${owner.index}].entry.${owner.pin}, on another bus (${owner.bus}); modules sharing an entry line must share a bus so they are never driven in parallel`,
      );
    }
  });
  return problems;
}

function moduleProblems(module: ModuleConfig, at: string): string[] {
  const problems: string[] = [];
  let device: DeviceInfo | undefined;
  try {
    device = typeof module.device === "number" ? findDevice(module.device) : resolveDevice(module.device);
    if (!device)
      problems.push(
        `${at}.device: no device with product ID 0x${(module.device as number).toString(16)} in the device table`,
      );
  } catch (error) {
    problems.push(`${at}.device: ${(error as Error).message.replace(/ \[[a-z-]+\]$/, "")}`);
  }
  for (const [key, spec] of byteStrings(module)) {
    try {
      parseByteString(spec);
    } catch (error) {
      problems.push(`${at}.${key}: ${(error as Error).message}`);
    }
  }
  if (module.health.kind === "uart-probe") {
    try {
      new RegExp(module.health.expect.replaceAll("{version}", "v"));
    } catch (error) {
      problems.push(`${at}.health.expect: not a valid regular expression: ${(error as Error).message}`);
    }
  }
  problems.push(...i2cProblems(module, at));
  if (module.exit === "reset" && (module.entry.method === "none" || module.entry.method === "app-command")) {
    problems.push(
      `${at}.exit: "reset" needs an entry method that controls NRST (gpio or serial-lines), not "${module.entry.method}"`,
    );
  }
  if (module.entry.method === "serial-lines") {
    const entry = module.entry;
    if (entry.boot0 === entry.reset)
      problems.push(`${at}.entry.reset: BOOT0 and NRST cannot both be wired to ${entry.reset.toUpperCase()}`);
    for (const key of ["enter", "exit"] as const) {
      const sequence = entry[key];
      if (sequence === undefined) continue;
      try {
        parseLineSequence(sequence);
      } catch (error) {
        problems.push(`${at}.entry.${key}: ${(error as Error).message.replace(/ \[[a-z-]+\]$/, "")}`);
      }
    }
  }
  if (module.layout.kind === "ab" && module.entry.method === "none") {
    problems.push(
      `${at}.entry.method: an "ab" module must be re-entered into its bootloader after the trial boot to confirm it; "none" cannot (use gpio, serial-lines or app-command)`,
    );
  }
  if (module.health.kind === "bootloader-only" && module.entry.method === "none") {
    problems.push(
      `${at}.health.kind: "bootloader-only" re-enters the bootloader after the firmware started, which entry method "none" cannot (use uart-probe or none)`,
    );
  }
  if (device) problems.push(...layoutProblems(module, device, `${at}.layout`));
  return problems;
}

/** An I2C module has no serial line of its own: what needs one must name it. */
function i2cProblems(module: ModuleConfig, at: string): string[] {
  if (!module.transport.i2c) return [];
  const problems: string[] = [];
  if (module.entry.method === "serial-lines") {
    problems.push(
      `${at}.entry.method: "serial-lines" drives a serial adapter's DTR/RTS; an I2C module needs gpio, app-command or none`,
    );
  }
  if (module.entry.method === "app-command" && module.entry.path === undefined) {
    problems.push(
      `${at}.entry.path: an I2C module's application command needs the application's serial port`,
    );
  }
  if (module.health.kind === "uart-probe" && module.health.path === undefined) {
    problems.push(`${at}.health.path: an I2C module's uart-probe needs the application's serial port`);
  }
  return problems;
}

function byteStrings(module: ModuleConfig): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (module.entry.method === "app-command") out.push(["entry.send", module.entry.send]);
  if (module.health.kind === "uart-probe") out.push(["health.send", module.health.send]);
  return out;
}

interface Region {
  name: string;
  start: number;
  end: number;
  /** Must start and end on erase-unit boundaries (it is erased as a whole). */
  aligned: boolean;
}

function layoutProblems(module: ModuleConfig, device: DeviceInfo, at: string): string[] {
  const problems: string[] = [];
  const layout = module.layout;
  const regions: Region[] = [];
  if (layout.kind === "single") {
    regions.push({
      name: "slot",
      start: layout.slot.address,
      end: layout.slot.address + layout.slot.size,
      aligned: false,
    });
  } else {
    regions.push({
      name: "slotA",
      start: layout.slotA.address,
      end: layout.slotA.address + layout.slotA.size,
      aligned: true,
    });
    regions.push({
      name: "slotB",
      start: layout.slotB.address,
      end: layout.slotB.address + layout.slotB.size,
      aligned: true,
    });
    layout.bootRecord.copies.forEach((copy, i) => {
      regions.push({
        name: `bootRecord.copies[${i}]`,
        start: copy,
        end: copy + BOOT_RECORD_SIZE,
        aligned: false,
      });
    });
    if (
      layout.selector !== undefined &&
      (layout.selector < device.flash.start || layout.selector >= device.flash.end)
    ) {
      problems.push(`${at}.selector: ${addr(layout.selector)} is outside the flash of ${device.name}`);
    }
  }
  const units = eraseUnits(device);
  const unitIndexAt = (address: number): number =>
    units.findIndex((u) => address >= u.start && address < u.start + u.size);
  for (const region of regions) {
    if (region.start < device.flash.start || region.end > device.flash.end) {
      problems.push(
        `${at}.${region.name}: ${addr(region.start)}..${addr(region.end)} is outside the flash of ${device.name} (${addr(device.flash.start)}..${addr(device.flash.end)})`,
      );
      continue;
    }
    const first = units[unitIndexAt(region.start)];
    const last = units[unitIndexAt(region.end - 1)];
    if (first && first.start !== region.start && (region.aligned || region.name === "slot")) {
      problems.push(
        `${at}.${region.name}.address: ${addr(region.start)} is not at the start of an erase unit (nearest ${addr(first.start)})`,
      );
    }
    if (region.aligned && last && last.start + last.size !== region.end) {
      problems.push(
        `${at}.${region.name}.size: the slot ends at ${addr(region.end)}, inside the erase unit ending at ${addr(last.start + last.size)}`,
      );
    }
    if (!region.aligned && region.name.startsWith("bootRecord") && region.start % 32 !== 0) {
      problems.push(
        `${at}.${region.name}: ${addr(region.start)} must be 32-byte aligned (one flash word on every family)`,
      );
    }
  }
  // No two regions may share an erase unit: rewriting one must never erase another (docs/module-firmware.md).
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i]!;
      const b = regions[j]!;
      const unitsA = new Set(unitRange(a, unitIndexAt));
      if (unitRange(b, unitIndexAt).some((u) => unitsA.has(u))) {
        problems.push(
          `${at}.${b.name}: shares an erase unit with ${a.name}; each slot and each boot-record copy needs its own erase units`,
        );
      }
    }
  }
  return problems;
}

function unitRange(region: Region, unitIndexAt: (address: number) => number): number[] {
  const first = unitIndexAt(region.start);
  const last = unitIndexAt(region.end - 1);
  if (first < 0 || last < 0) return [];
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

/** Whether a "host:port" listens on the loopback interface only. */
export function isLoopback(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
