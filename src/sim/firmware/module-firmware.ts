/**
 * Simulated module firmware for the simulator's `app` hook: the A/B slot selector of
 * docs/module-firmware.md plus an application that answers the uart-probe health check and accepts
 * the "enter bootloader" application command. Single-slot modules boot their one slot directly.
 *
 * Application protocol (at whatever baud the host uses; the simulator does not model the app's baud):
 * - "?\n"      → "subflash-app <version> ok\n"  (health probe; wrong-version firmware reports another version)
 * - "!boot\n"  → jumps to the ROM bootloader (the `app-command` entry method)
 */
import { decideBoot, decodeBootRecord, BOOT_RECORD_SIZE } from "../../targets/index.js";
import type { AbSlot } from "../../targets/index.js";
import { stm32Crc } from "../../signing/index.js";
import type { SimAppContext, SimAppFactory, SimApplication } from "../module/types.js";
import { parseSimFirmware } from "./image-format.js";
import type { SimFirmwareHeader } from "./image-format.js";

export interface SimRange {
  address: number;
  size: number;
}

export type SimFirmwareLayout =
  | { kind: "ab"; slotA: SimRange; slotB: SimRange; bootRecord: readonly [number, number]; selector?: number }
  | { kind: "single"; slot: SimRange };

/** One start of the application, as the module would log it. */
export interface SimBootEvent {
  slot: AbSlot | "single";
  version: string | null;
  behaviour: SimFirmwareHeader["behaviour"] | null;
  /** The selector booted a trial record (its one trial boot). */
  trial: boolean;
  /** What happened: "running", "crashed" (watchdog reset follows), "no-image" (nothing bootable). */
  outcome: "running" | "crashed" | "no-image";
}

export interface ModuleFirmwareOptions {
  layout: SimFirmwareLayout;
  /**
   * Programs flash as the module's own code would (bits can only be cleared). The selector uses it to
   * mark a trial as used. See `attach`, for when the module is created after its firmware model.
   */
  program?: (address: number, bytes: Uint8Array) => void;
  /** Application command that jumps into the bootloader (default "!boot\n"). */
  bootCommand?: string;
  /** Called on every application start. */
  onBoot?: (event: SimBootEvent) => void;
  /**
   * Fault injection for fleets: an application whose version this returns true for boots but never
   * answers the health probe, as firmware that hangs on this particular board would.
   */
  hangs?: (version: string) => boolean;
}

export const PROBE_REQUEST = "?\n";
export const DEFAULT_BOOT_COMMAND = "!boot\n";
/** The reply of a healthy application to the probe. */
export function probeReply(version: string): string {
  return `subflash-app ${version} ok\n`;
}

const TRIAL_MARKER_OFFSET = 32;
const MAX_WATCHDOG_RESETS = 3;

export class ModuleFirmware {
  readonly #options: ModuleFirmwareOptions;
  #program: ((address: number, bytes: Uint8Array) => void) | undefined;
  /** Trial markers the selector had to program before it could (no `program` yet): done on attach. */
  readonly #pendingMarks = new Set<number>();
  /** Every application start, oldest first. */
  readonly boots: SimBootEvent[] = [];

  constructor(options: ModuleFirmwareOptions) {
    this.#options = options;
    this.#program = options.program;
  }

  /** Gives the selector its flash-programming access once the simulated module exists. */
  attach(program: (address: number, bytes: Uint8Array) => void): this {
    this.#program = program;
    for (const address of this.#pendingMarks) program(address, new Uint8Array(32));
    this.#pendingMarks.clear();
    return this;
  }

  /** The hook to pass as `app` to createSimulatedModule. */
  readonly app: SimAppFactory = (ctx) => this.#start(ctx);

  #start(ctx: SimAppContext): SimApplication | undefined {
    const layout = this.#options.layout;
    if (layout.kind === "single") return this.#bootImage(ctx, "single", layout.slot.address, false);
    // Go straight to a slot's start bypasses the selector, as a jump to that vector table would.
    if (ctx.bootReason === "go" && ctx.goAddress !== undefined) {
      if (ctx.goAddress === layout.slotA.address)
        return this.#bootImage(ctx, "a", layout.slotA.address, false);
      if (ctx.goAddress === layout.slotB.address)
        return this.#bootImage(ctx, "b", layout.slotB.address, false);
    }
    // A crashing application is reset by its watchdog and the selector runs again; model a few rounds.
    for (let round = 0; round < MAX_WATCHDOG_RESETS; round++) {
      const choice = this.#select(ctx, layout);
      if (!choice) {
        this.#log({ slot: "a", version: null, behaviour: null, trial: false, outcome: "no-image" });
        // Nothing bootable: the selector hands over to the ROM bootloader, the module's recovery path.
        ctx.enterBootloader();
        return undefined;
      }
      const header = parseSimFirmware(ctx.flash.read(choice.address, 64));
      if (header?.behaviour !== "crash-on-boot")
        return this.#bootImage(ctx, choice.slot, choice.address, choice.trial);
      this.#log({
        slot: choice.slot,
        version: header.version,
        behaviour: header.behaviour,
        trial: choice.trial,
        outcome: "crashed",
      });
    }
    return undefined;
  }

  /** The slot selector of docs/module-firmware.md §Selector. */
  #select(
    ctx: SimAppContext,
    layout: Extract<SimFirmwareLayout, { kind: "ab" }>,
  ): { slot: AbSlot; address: number; trial: boolean } | null {
    const copies = [0, 1].map((i) =>
      decodeBootRecord(ctx.flash.read(layout.bootRecord[i]!, BOOT_RECORD_SIZE)),
    ) as [ReturnType<typeof decodeBootRecord>, ReturnType<typeof decodeBootRecord>];
    for (const [i, copy] of copies.entries())
      if (this.#pendingMarks.has(layout.bootRecord[i]! + TRIAL_MARKER_OFFSET)) copy.trialUsed = true;
    const decision = decideBoot(copies);
    const slotAddress = (slot: AbSlot): number =>
      slot === "a" ? layout.slotA.address : layout.slotB.address;
    if (decision.pendingTrial && decision.winner !== null) {
      // Mark the trial as used BEFORE jumping: a crash or reset from here on falls back. Started
      // before `attach`, the model remembers the mark and programs it on attach.
      const marker = layout.bootRecord[decision.winner] + TRIAL_MARKER_OFFSET;
      if (this.#program) this.#program(marker, new Uint8Array(32));
      else this.#pendingMarks.add(marker);
    }
    const record = decision.record;
    const order: AbSlot[] = [decision.boots, decision.boots === "a" ? "b" : "a"];
    for (const slot of order) {
      const address = slotAddress(slot);
      // The record carries the active image's length and CRC: check it before trusting the slot.
      if (
        record &&
        slot === record.active &&
        !this.#imageMatches(ctx, address, record.imageLength, record.imageCrc)
      )
        continue;
      if (!parseSimFirmware(ctx.flash.read(address, 64))) continue;
      return { slot, address, trial: decision.pendingTrial && slot === record?.active };
    }
    return null;
  }

  #imageMatches(ctx: SimAppContext, address: number, length: number, crc: number): boolean {
    // Length 0: the gateway did not know the image (a factory-flashed slot); nothing to check.
    if (length === 0) return true;
    if (length > 16 * 1024 * 1024) return false;
    return stm32Crc(ctx.flash.read(address, length)) === crc;
  }

  #bootImage(
    ctx: SimAppContext,
    slot: AbSlot | "single",
    address: number,
    trial: boolean,
  ): SimApplication | undefined {
    const header = parseSimFirmware(ctx.flash.read(address, 64));
    if (!header) {
      this.#log({ slot, version: null, behaviour: null, trial, outcome: "no-image" });
      return undefined;
    }
    if (header.behaviour === "crash-on-boot") {
      this.#log({ slot, version: header.version, behaviour: header.behaviour, trial, outcome: "crashed" });
      return undefined;
    }
    this.#log({ slot, version: header.version, behaviour: header.behaviour, trial, outcome: "running" });
    return this.#application(ctx, header);
  }

  #application(ctx: SimAppContext, header: SimFirmwareHeader): SimApplication {
    const bootCommand = this.#options.bootCommand ?? DEFAULT_BOOT_COMMAND;
    const reported = header.behaviour === "wrong-version" ? `${header.version}-wrong` : header.version;
    let line = "";
    return {
      onData: (bytes, reply) => {
        for (const byte of bytes) {
          line += String.fromCharCode(byte);
          if (byte !== 0x0a) {
            if (line.length > 256) line = "";
            continue;
          }
          const request = line;
          line = "";
          if (request === bootCommand) {
            ctx.enterBootloader();
            return;
          }
          const hung = this.#options.hangs?.(header.version) ?? false;
          if (request === PROBE_REQUEST && header.behaviour !== "silent" && !hung)
            reply(new TextEncoder().encode(probeReply(reported)));
        }
      },
    };
  }

  #log(event: SimBootEvent): void {
    this.boots.push(event);
    this.#options.onBoot?.(event);
  }
}

/** Shorthand: the firmware model for a layout. Pass `.app` to the simulator, then `.attach(program)`. */
export function createModuleFirmware(options: ModuleFirmwareOptions): ModuleFirmware {
  return new ModuleFirmware(options);
}
