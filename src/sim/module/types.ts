/**
 * The public shapes of the simulated STM32 module: options, run states, the application hook,
 * wiring of the serial adapter's modem lines, and statistics.
 */
import type { DeviceInfo } from "../../targets/index.js";
import type { Logger } from "../../util/logger.js";

/**
 * What the module is doing:
 * - `off`: unpowered, or held in reset (NRST low): deaf and silent;
 * - `bootloader-sync`: ROM bootloader waiting for a host: the 0x7F activation byte (AN3155 §2.1) or
 *   its I2C slave address (AN4221);
 * - `bootloader`: synchronised, executing commands;
 * - `application`: running its application (after Go, or a reset with BOOT0 low).
 */
export type SimState = "off" | "bootloader-sync" | "bootloader" | "application";

/** Read access to the module's memory, for application models. */
export interface SimMemoryReader {
  /** Bytes at [address, address+length) of any mapped area, ignoring protection. */
  read(address: number, length: number): Uint8Array;
}

export interface SimAppContext {
  flash: SimMemoryReader;
  device: DeviceInfo;
  bootReason: "go" | "reset";
  /** Target of the Go command that started the application. */
  goAddress?: number;
  /** The application jumps into the ROM bootloader (AN2606 "jump to system memory"): it then waits for 0x7F. */
  enterBootloader(): void;
}

/** A running application: receives what the host sends while it runs and may answer at wire speed. */
export interface SimApplication {
  onData(bytes: Uint8Array, reply: (bytes: Uint8Array) => void): void;
  /** Called when the application stops (reset, power cut, jump to the bootloader). */
  stop?(): void;
}

/** Called each time the module starts its application; undefined means a silent application. */
export type SimAppFactory = (ctx: SimAppContext) => SimApplication | undefined;

export type SerialLineName = "dtr" | "rts";

/** One modem line driving one pin. `invert: true` when the adapter or a transistor inverts the level. */
export interface LineWire {
  line: SerialLineName;
  invert?: boolean;
}

/**
 * How the host's serial lines reach the module's pins. Default: RTS drives BOOT0 (asserted = high),
 * DTR drives NRST (asserted = reset held), as stm32loader wires them. "none": lines are ignored.
 */
export type SimWiring = "none" | { boot0?: LineWire; nrst?: LineWire };

export const DEFAULT_WIRING: { boot0: LineWire; nrst: LineWire } = {
  boot0: { line: "rts" },
  nrst: { line: "dtr" },
};

/** Flash content given at creation: a flash image from the flash start, or pieces at absolute addresses. */
export type SimInitialFlash = Uint8Array | ReadonlyArray<{ address: number; data: Uint8Array }>;

export interface SimOptions {
  /** A device-table entry, or a part name / PID string resolved with resolveDevice ("g071", "0x460"). */
  device: DeviceInfo | string;
  /** USART protocol version byte reported by Get / Get Version. Default: the device table's. */
  bootloaderVersion?: number;
  /**
   * The command list Get reports, which is also the set of commands accepted (others are NACKed).
   * Default: from the version: v2.x with Erase 0x43, v3.x with Extended Erase 0x44, v3.3+ adds 0xA1.
   */
  commands?: readonly number[];
  /** I2C protocol version byte (0x10, 0x11, 0x12; AN4221). Default: the device table's, else 0x12. */
  i2cVersion?: number;
  /** The I2C Get list and accepted I2C commands. Default: from the I2C version (v1.1 adds No-Stretch, v1.2 adds 0xA1). */
  i2cCommands?: readonly number[];
  /**
   * What the I2C bootloader does when the master reads fewer bytes than a reply holds (default
   * "abandon": it drops the rest and the command, i2c-front-end.ts). "continue" models a ROM that
   * sends reply bytes one by one as the bus asks for them (OpenBootloader's byte loop): the rest is
   * served by the next read transaction.
   */
  i2cShortRead?: "abandon" | "continue";
  /** Model wire time and flash times (default true). False: everything is instant (unit tests). */
  timing?: boolean;
  /** Line speed for the wire-time model, in baud (default 115200). */
  baud?: number;
  /**
   * Flash content file: loaded at start when it exists (it wins over `initialFlash`), written back
   * after each flash-modifying command. Option state (RDP, WRP) goes to `<flashFile>.options.json`.
   */
  flashFile?: string;
  /** Read-out protection level at start (default 0; a persisted option file wins). */
  rdp?: 0 | 1;
  /** Write-protected WRP sectors at start (sector = `device.unitsPerWrpSector` erase units). */
  wrp?: readonly number[];
  initialFlash?: SimInitialFlash;
  /** BOOT0 level at start (default true: the module powers up into its bootloader). */
  boot0?: boolean;
  /** Time the module takes to boot after a reset or power-up, in ms (default 0). Bytes in that window are lost. */
  bootMs?: number;
  app?: SimAppFactory;
  wiring?: SimWiring;
  logger?: Logger;
}

export interface SimStats {
  /** Bytes that reached the module while powered (dropped-by-fault bytes included). */
  bytesReceived: number;
  /** Bytes the module put on the line. */
  bytesSent: number;
  /** Modelled time the flash was busy (program, erase, option bytes), ms. */
  flashBusyMs: number;
  /** Modelled wire time host→device and device→host at 11 bits a byte, ms. */
  wireRxMs: number;
  wireTxMs: number;
  /** Command frames accepted as valid opcodes, by opcode ("0x31"). */
  commands: Record<string, number>;
  /** NACKs sent. */
  nacks: number;
  bytesProgrammed: number;
  unitsErased: number;
  massErases: number;
  /** Resets (commands that reset, pin resets, power-ups). */
  resets: number;
  /**
   * USART with timing: host turnarounds, i.e. times the host's next bytes followed a reply the
   * module had handed to the line, and their summed real time from the reply's handover to the
   * bytes' arrival (the host's and the line's latency, which the wire + flash model leaves out).
   */
  hostTurnarounds: number;
  hostTurnaroundMs: number;
}

export function emptyStats(): SimStats {
  return {
    bytesReceived: 0,
    bytesSent: 0,
    flashBusyMs: 0,
    wireRxMs: 0,
    wireTxMs: 0,
    commands: {},
    nacks: 0,
    bytesProgrammed: 0,
    unitsErased: 0,
    massErases: 0,
    resets: 0,
    hostTurnarounds: 0,
    hostTurnaroundMs: 0,
  };
}
