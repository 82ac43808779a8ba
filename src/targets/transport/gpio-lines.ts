/**
 * BOOT0 and NRST through the Linux GPIO character device, driven with libgpiod's `gpioset` tool
 * (no native addon; the tool ships with every distribution: `apt install gpiod`).
 *
 * A line keeps its level only while the process holding it runs (a released line may float, and a
 * floating NRST with a pull-up lets the MCU out of reset), so the levels are held by a long-lived
 * `gpioset` process bound to a pipe on its stdin:
 * - libgpiod v2: one `gpioset --interactive -c CHIP L1=V L2=V` per module, new levels written to its
 *   stdin as `set L1=V L2=V`;
 * - libgpiod v1 (no interactive mode): `gpioset --mode=wait CHIP L1=V L2=V`, which holds until its
 *   stdin sees a newline or closes; replaced by a new one on each change (a gap of a few milliseconds
 *   during which the lines are released).
 * Either way the process ends when its stdin closes, so a killed daemon leaves no process holding the
 * lines (a restarted one could not request them).
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import type { Logger } from "../../util/logger.js";
import { silentLogger } from "../../util/logger.js";
import { TransportError } from "./errors.js";

/** A module's BOOT0/NRST lines on a GPIO chip (the gateway's `entry: { method: gpio }` config). */
export interface GpioLineConfig {
  /** "gpiochip0" or "/dev/gpiochip0". */
  chip: string;
  /** Line offsets on that chip. */
  boot0: number;
  nrst: number;
  nrstActiveLow: boolean;
  boot0ActiveLow: boolean;
  /** Path of the gpioset binary (libgpiod v1 or v2). */
  gpioset: string;
}
type GpioEntry = GpioLineConfig;

/** Logical pin levels: BOOT0 high or low; NRST asserted (module held in reset) or released. */
export interface PinLevels {
  boot0?: boolean;
  reset?: boolean;
}

/** Drives a module's BOOT0/NRST. The default implementation is GpiosetLines; the simulator has its own. */
export interface ResetLines {
  set(levels: PinLevels): Promise<void>;
  /** Releases the lines (the holding process ends). */
  close(): Promise<void>;
}

const execFileAsync = promisify(execFile);
/** Time for gpioset to request the lines before we rely on the new levels. */
const SETTLE_MS = 10;
/** How long a gpioset may take to exit after its stdin closed before it is sent SIGTERM. */
const STOP_GRACE_MS = 500;

export class GpiosetLines implements ResetLines {
  readonly #entry: GpioEntry;
  readonly #log: Logger;
  readonly #levels: Required<PinLevels> = { boot0: false, reset: false };
  #major: 1 | 2 | undefined;
  #child: ChildProcess | undefined;

  constructor(entry: GpioEntry, logger: Logger = silentLogger) {
    this.#entry = entry;
    this.#log = logger;
  }

  async set(levels: PinLevels): Promise<void> {
    Object.assign(
      this.#levels,
      Object.fromEntries(Object.entries(levels).filter(([, v]) => v !== undefined)),
    );
    const major = await this.#version();
    const assignments = this.#assignments();
    this.#log.debug({ chip: this.#entry.chip, lines: assignments }, "gpio levels");
    if (major === 2 && this.#child?.stdin?.writable) {
      this.#child.stdin.write(`set ${assignments.join(" ")}\n`);
    } else {
      await this.#stop();
      const args =
        major === 2
          ? ["--interactive", "-c", this.#entry.chip, ...assignments]
          : ["--mode=wait", this.#entry.chip.replace(/^\/dev\//, ""), ...assignments];
      this.#child = this.#spawn(args);
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if (this.#child?.exitCode !== null && this.#child?.exitCode !== undefined) {
      throw new TransportError(
        "gpio-failed",
        `gpioset exited with code ${this.#child.exitCode} while holding ${assignments.join(" ")} on ${this.#entry.chip}`,
        {
          chip: this.#entry.chip,
        },
      );
    }
  }

  close(): Promise<void> {
    return this.#stop();
  }

  /** "LINE=VALUE" for both lines, applying the configured polarities. */
  #assignments(): string[] {
    const e = this.#entry;
    const boot0 = this.#levels.boot0 !== e.boot0ActiveLow;
    // NRST asserted = reset held; active low means the line is 0 then.
    const nrst = this.#levels.reset !== e.nrstActiveLow;
    return [`${e.boot0}=${boot0 ? 1 : 0}`, `${e.nrst}=${nrst ? 1 : 0}`];
  }

  #spawn(args: string[]): ChildProcess {
    const child = spawn(this.#entry.gpioset, args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) =>
      this.#log.error({ err: error.message, gpioset: this.#entry.gpioset }, "cannot run gpioset"),
    );
    child.on("exit", (code) => {
      if (code) this.#log.warn({ code, stderr: stderr.trim(), chip: this.#entry.chip }, "gpioset exited");
    });
    return child;
  }

  /** Ends the holding process: its stdin closes (both versions exit then), SIGTERM if it lingers. */
  async #stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGTERM"), STOP_GRACE_MS);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }

  async #version(): Promise<1 | 2> {
    if (this.#major) return this.#major;
    try {
      const { stdout } = await execFileAsync(this.#entry.gpioset, ["--version"]);
      // "gpioset (libgpiod) v1.6.3" or "gpioset (libgpiod) v2.1": the first number is the major version.
      const major = /(\d+)\.\d+/.exec(stdout)?.[1];
      this.#major = major !== undefined && Number(major) >= 2 ? 2 : 1;
    } catch (error) {
      throw new TransportError(
        "gpio-failed",
        `cannot run ${this.#entry.gpioset} (libgpiod) for the gpio entry method on ${this.#entry.chip}: ${(error as Error).message}`,
        { chip: this.#entry.chip, gpioset: this.#entry.gpioset },
        { cause: error },
      );
    }
    return this.#major;
  }
}
