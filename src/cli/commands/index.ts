/**
 * Every CLI command, in the order `subflash --help` lists them, as a table that costs nothing to load:
 * each entry names the command(s) its file registers, a one-line summary for the help listing, and
 * how to load the file. main.ts loads only the file of the command being run, so `subflash info`
 * never loads MQTT, the gateway or zod, and `subflash --version` loads no command at all.
 *
 * A test (test/cli/command-table.test.ts) checks that each file registers exactly these names with
 * these summaries.
 */
import type { Command } from "commander";

export interface CommandFile {
  register(program: Command): void;
}

export interface CommandEntry {
  /** The top-level command names the file registers. */
  readonly names: readonly string[];
  /** The description of each name, in the same order, as its file sets it. */
  readonly summaries: readonly string[];
  readonly load: () => Promise<CommandFile>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    names: ["info"],
    summaries: ["identify the module's bootloader: part, PID, protocol version, commands, flash layout, RDP"],
    load: () => import("./info.js"),
  },
  {
    names: ["flash"],
    summaries: [
      "flash a firmware image (.bin, .hex, .elf) through the module's ROM bootloader, with verification",
    ],
    load: () => import("./flash.js"),
  },
  {
    names: ["read"],
    summaries: ["read memory (flash, RAM, option bytes…) into a file"],
    load: () => import("./read.js"),
  },
  {
    names: ["erase"],
    summaries: ["erase flash pages or sectors, the whole flash, or one bank"],
    load: () => import("./erase.js"),
  },
  {
    names: ["unprotect"],
    summaries: ["lift write protection (--write) or readout protection (--readout: ERASES THE WHOLE FLASH)"],
    load: () => import("./unprotect.js"),
  },
  {
    names: ["scan"],
    summaries: [
      "list the STM32 ROM bootloaders answering on an I2C bus (address, protocol version, product ID)",
    ],
    load: () => import("./scan.js"),
  },
  {
    names: ["devices"],
    summaries: ["List the supported STM32 parts: product ID, name, flash, erase command, bootloader ID"],
    load: () => import("./devices.js"),
  },
  {
    names: ["sim"],
    summaries: [
      "simulate an STM32 module's ROM bootloader (AN3155) on a terminal device, e.g. one end of a socat pty pair",
    ],
    load: () => import("./sim.js"),
  },
  {
    names: ["keygen"],
    summaries: ["Create an Ed25519 signing key: <prefix>.key (secret, owner-only) and <prefix>.pub"],
    load: () => import("./keygen.js"),
  },
  {
    names: ["release"],
    summaries: ["Build signed update bundles"],
    load: () => import("./release.js"),
  },
  {
    names: ["manifest"],
    summaries: ["Verify or inspect bundles and signed manifests"],
    load: () => import("./manifest.js"),
  },
  {
    names: ["daemon"],
    summaries: ["Run the gateway: receive signed bundles and commands over MQTT and update the modules"],
    load: () => import("./daemon.js"),
  },
  {
    names: ["publish"],
    summaries: ["Publish a signed bundle to a gateway or to every gateway of a group"],
    load: () => import("./publish.js"),
  },
  {
    names: ["status"],
    summaries: ["Show the modules of a gateway (or of all gateways) from their retained MQTT status"],
    load: () => import("./status.js"),
  },
  {
    names: ["rollback", "cancel", "retry", "acknowledge"],
    summaries: [
      "Roll a gateway's modules back to their previous firmware (signed command)",
      "Cancel the bundle a gateway is applying; updated modules are rolled back (signed command)",
      "Retry the modules that failed in the last bundle (signed command)",
      "Acknowledge a gateway's lost or disagreeing anti-replay records so it accepts bundles again (signed command)",
    ],
    load: () => import("./rollback.js"),
  },
  {
    names: ["demo"],
    summaries: [
      "Run the whole update story on this machine: embedded MQTT broker, four simulated modules (serial and I2C), no hardware",
    ],
    load: () => import("./demo.js"),
  },
  {
    names: ["campaign"],
    summaries: ["Roll a signed bundle out to a fleet in waves"],
    load: () => import("./campaign.js"),
  },
  {
    names: ["retire"],
    summaries: ["Clear the retained MQTT topics (and Home Assistant entities) of a retired gateway"],
    load: () => import("./retire.js"),
  },
];

/** The entry whose file registers `name`, if any. */
export function findCommand(name: string | undefined): CommandEntry | undefined {
  return name === undefined ? undefined : COMMANDS.find((c) => c.names.includes(name));
}
