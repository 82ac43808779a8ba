/**
 * `subflash daemon --check`: everything the daemon needs before it starts, each problem with the
 * configuration field or path it concerns. The configuration itself is validated by loadConfig
 * before this runs; here: the trust store, the state directory and its lock, every module's devices
 * (serial port present and not open in another process, I2C bus, GPIO chip and line offsets,
 * gpioset), and the broker URL. With --simulate the modules are simulated and their device checks
 * are skipped (and reported as skipped).
 */
import { constants } from "node:fs";
import { access, readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import type { GatewayConfig, ModuleConfig } from "../gateway/index.js";
import { loadTrustStore } from "../signing/index.js";
import { parseI2cBus } from "../targets/index.js";
import { parseBrokerUrl } from "../util/broker-url.js";
import { describeError } from "../util/errors.js";
import { acquireStateLock, lockHolder } from "../gateway/index.js";

export type CheckStatus = "ok" | "fail" | "skipped";

export interface CheckResult {
  /** What was checked: "trust store", "state directory", "serial port", "I2C bus", "GPIO chip", … */
  check: string;
  /** The configuration field it comes from, e.g. "modules[1].transport.usart.path". */
  field: string;
  /** The file or device concerned, when there is one. */
  path?: string;
  status: CheckStatus;
  /** Why it failed or was skipped; what was found when ok. */
  detail: string;
}

export interface CheckOptions {
  /** Modules are simulated (--simulate): no real device is opened, so none is checked. */
  simulated: boolean;
}

export async function checkGateway(config: GatewayConfig, options: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(await checkTrustStore(config.trustStore));
  results.push(...(await checkStateDir(config.stateDir)));
  if (config.mqtt) results.push(checkBroker(config.mqtt.url));
  const holders = options.simulated ? new Map<string, number[]>() : await openDevices();
  const gpioset = new Map<string, Promise<string | null>>();
  for (const [index, module] of config.modules.entries()) {
    const at = `modules[${index}]`;
    if (options.simulated) {
      results.push({
        check: "devices",
        field: `${at} (${module.id})`,
        status: "skipped",
        detail: "simulated module (--simulate): no device is opened",
      });
      continue;
    }
    results.push(...(await checkModule(module, at, holders, gpioset)));
  }
  return results;
}

async function checkTrustStore(path: string): Promise<CheckResult> {
  const base = { check: "trust store", field: "trustStore", path };
  try {
    const store = await loadTrustStore(path);
    return {
      ...base,
      status: "ok",
      detail: `${store.keys.length} key(s), threshold ${store.threshold}`,
    };
  } catch (error) {
    return { ...base, status: "fail", detail: describeError(error) };
  }
}

async function checkStateDir(dir: string): Promise<CheckResult[]> {
  const base = { check: "state directory", field: "stateDir", path: dir };
  const found = await stat(dir).catch(() => null);
  if (!found) {
    // Creatable: the nearest existing ancestor is a writable directory.
    let parent = dirname(dir);
    while (parent !== dirname(parent) && !(await stat(parent).catch(() => null))) parent = dirname(parent);
    const ok = await access(parent, constants.W_OK | constants.X_OK).then(
      () => true,
      () => false,
    );
    return [
      ok
        ? { ...base, status: "ok", detail: `does not exist yet; the daemon creates it (in ${parent})` }
        : {
            ...base,
            status: "fail",
            detail: `does not exist and ${parent} is not writable: cannot create it`,
          },
    ];
  }
  if (!found.isDirectory()) return [{ ...base, status: "fail", detail: "is not a directory" }];
  const writable = await access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return [{ ...base, status: "fail", detail: "is not writable by this user" }];
  const lockBase = { check: "state lock", field: "stateDir", path: join(dir, ".lock") };
  const holder = await lockHolder(dir);
  if (holder !== null)
    return [
      { ...base, status: "ok", detail: "exists, writable" },
      {
        ...lockBase,
        status: "fail",
        detail: `held by process ${holder}, a running daemon: a second one would refuse to start`,
      },
    ];
  try {
    const lock = await acquireStateLock(dir);
    await lock.release();
  } catch (error) {
    return [
      { ...base, status: "ok", detail: "exists, writable" },
      { ...lockBase, status: "fail", detail: describeError(error) },
    ];
  }
  return [
    { ...base, status: "ok", detail: "exists, writable" },
    { ...lockBase, status: "ok", detail: "free (taken and released)" },
  ];
}

function checkBroker(url: string): CheckResult {
  const base = { check: "broker URL", field: "mqtt.url", path: url };
  try {
    return { ...base, status: "ok", detail: parseBrokerUrl(url) };
  } catch (error) {
    return { ...base, status: "fail", detail: describeError(error) };
  }
}

async function checkModule(
  module: ModuleConfig,
  at: string,
  holders: Map<string, number[]>,
  gpioset: Map<string, Promise<string | null>>,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const { usart, i2c } = module.transport;
  if (usart) {
    const field = `${at}.transport.usart.path`;
    const device = await checkDevice("serial port", field, usart.path);
    if (device.status === "ok") {
      const real = await realpath(usart.path).catch(() => usart.path);
      const pids = holders.get(real) ?? [];
      if (pids.length > 0) {
        device.status = "fail";
        device.detail = `is open in process ${pids.join(", ")}: the daemon could not lock it`;
      }
    }
    results.push(device);
  }
  if (i2c) {
    const bus = `/dev/i2c-${parseI2cBus(i2c.bus)}`;
    results.push(await checkDevice("I2C bus", `${at}.transport.i2c.bus`, bus));
  }
  if (module.entry.method === "gpio") {
    const entry = module.entry;
    const chip = entry.chip.startsWith("/") ? entry.chip : `/dev/${entry.chip}`;
    const chipResult = await checkDevice("GPIO chip", `${at}.entry.chip`, chip);
    results.push(chipResult);
    if (chipResult.status === "ok") {
      const lines = await gpioLineCount(chip);
      const offsets = [
        ["boot0", entry.boot0],
        ["nrst", entry.nrst],
      ] as const;
      for (const [name, offset] of offsets) {
        const base = { check: "GPIO line", field: `${at}.entry.${name}`, path: `${chip} line ${offset}` };
        if (lines === null)
          results.push({ ...base, status: "skipped", detail: "the chip's line count is not in sysfs" });
        else if (offset >= lines)
          results.push({ ...base, status: "fail", detail: `the chip has ${lines} lines (0..${lines - 1})` });
        else results.push({ ...base, status: "ok", detail: `of ${lines} lines` });
      }
    }
    let found = gpioset.get(entry.gpioset);
    if (!found) gpioset.set(entry.gpioset, (found = findExecutable(entry.gpioset)));
    const path = await found;
    results.push({
      check: "gpioset",
      field: `${at}.entry.gpioset`,
      path: path ?? entry.gpioset,
      status: path ? "ok" : "fail",
      detail: path
        ? "executable"
        : `${entry.gpioset} not found${isAbsolute(entry.gpioset) ? "" : " on PATH"} (Debian: apt install gpiod)`,
    });
  }
  return results;
}

/** A character device that exists and that this user may open read-write. */
async function checkDevice(check: string, field: string, path: string): Promise<CheckResult> {
  const base = { check, field, path };
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error)
    return { ...base, status: "fail", detail: found.code === "ENOENT" ? "does not exist" : found.message };
  if (!found.isCharacterDevice()) return { ...base, status: "fail", detail: "is not a character device" };
  const rw = await access(path, constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!rw)
    return {
      ...base,
      status: "fail",
      detail: "not readable and writable by this user (group membership? see docs/systemd.md)",
    };
  return { ...base, status: "ok", detail: "present, read-write" };
}

/** Device paths open in other processes (that /proc lets us see), by real path → pids. */
async function openDevices(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const procs = await readdir("/proc").catch(() => [] as string[]);
  for (const entry of procs) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => null);
      if (!target?.startsWith("/dev/")) continue;
      const pids = out.get(target) ?? [];
      if (!pids.includes(Number(entry))) pids.push(Number(entry));
      out.set(target, pids);
    }
  }
  return out;
}

/** Number of lines of a GPIO chip (/dev/gpiochipN), from sysfs; null when sysfs does not say. */
async function gpioLineCount(chip: string): Promise<number | null> {
  const name = chip.slice(chip.lastIndexOf("/") + 1);
  for (const dir of [`/sys/bus/gpio/devices/${name}`, `/sys/class/gpio`]) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    if (dir.endsWith(name) && entries.includes("ngpio"))
      return Number((await readFile(join(dir, "ngpio"), "utf8")).trim());
    // Legacy sysfs: /sys/class/gpio/gpiochip<base>/device → …/gpiochipN, with ngpio beside it.
    for (const entry of entries.filter((e) => e.startsWith("gpiochip"))) {
      const device = await realpath(join(dir, entry, "device")).catch(() => "");
      if (device.endsWith(`/${name}`))
        return Number((await readFile(join(dir, entry, "ngpio"), "utf8").catch(() => "")).trim()) || null;
    }
  }
  return null;
}

/** The path of an executable: `name` itself when it has a slash, else the first match on PATH. */
async function findExecutable(name: string): Promise<string | null> {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir || ".", name));
  for (const candidate of candidates) {
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok && (await stat(candidate)).isFile()) return candidate;
  }
  return null;
}
