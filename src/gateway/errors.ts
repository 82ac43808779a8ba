import { SubflashError } from "../util/errors.js";

/** Codes of problems in the gateway configuration file. */
export type ConfigErrorCode = "config-unreadable" | "config-syntax" | "config-invalid";

/**
 * The configuration could not be used. `problems` lists every problem found, each as
 * "path: message" (e.g. "modules[1].layout.slotB.address: overlaps slotA"), so one run shows them all.
 */
export class ConfigError extends SubflashError<ConfigErrorCode> {
  readonly domain = "config";

  constructor(
    code: ConfigErrorCode,
    readonly file: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      code,
      `${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join("\n  ")}`}`,
      { file, problems },
      options,
    );
  }
}

/** Codes of the update engine: stable, published in status and command responses. */
export type GatewayErrorCode =
  // module-level failures
  | "wrong-device" // the module's PID differs from the configuration or the manifest
  | "readout-protected" // RDP level 1: the bootloader refuses memory commands
  | "bootloader-unreachable" // entering or connecting to the bootloader failed
  | "flash-failed" // erase/write/verify of a slot failed
  | "boot-record-failed" // writing or reading back the boot record failed
  | "health-check-failed" // the application did not answer as expected
  | "phase-timeout" // a phase's watchdog expired
  | "image-unavailable" // an image (new or previous) is not in the image store and cannot be fetched
  | "download-failed" // HTTPS fetch failed or its SHA-256 did not match
  | "no-previous-image" // rollback asked for but there is nothing to roll back to
  | "below-security-floor" // the rollback target's security version is under the floor
  | "rollback-failed" // restoring the previous firmware failed: the module needs attention
  // reconciliation (src/gateway/reconcile): what a module holds differs from the gateway's records
  | "drift" // the module runs other firmware than the gateway recorded (a bench flash, a lost journal)
  | "half-written" // the slot holds part of an image, or a trial the gateway no longer knows of is pending
  | "unknown-content" // the module's firmware matches nothing the gateway knows and it has no record of it
  | "interrupted" // a health check was cut short by a restart; it is repeated with a fresh trial
  // bundle / command level
  | "busy" // another bundle or command is running
  | "not-applicable" // the bundle names no module this gateway has
  | "unknown-module" // a command names a module that is not configured
  | "nothing-to-cancel"
  | "nothing-to-retry"
  | "cancelled" // the operator cancelled the bundle
  | "dependency-failed" // a module was not updated because one it depends on failed
  | "stopped" // the engine is stopping: nothing new is accepted
  | "shutting-down" // the MQTT side answers a command that arrived while the gateway stops
  | "state-corrupt" // the state file or journal cannot be read
  | "state-locked" // another running daemon holds the state directory's lock (stateDir/.lock)
  | "state-unusable" // stateDir is not a directory the gateway can use (start-up)
  | "storage-unavailable" // the state file system refused a write (full, read-only, I/O error)
  | "state-lost" // state.json is missing on a gateway with history: refused until acknowledged
  | "journal-lost" // the journal is missing while state.json shows a bundle that never finished: undone
  | "state-disagrees" // the two copies of the anti-replay floors differ, or one is missing or damaged: refused until acknowledged
  | "nothing-to-acknowledge" // acknowledge-state while no state alert stands
  | "quarantined" // the bundle failed retry.attempts times: no more automatic attempts until a newer sequence or a signed retry
  | "intake-full" // too many bundles waiting for verification: this one was shed
  | "trust-store-invalid" // the trust store cannot be read or is not valid (start-up)
  | "internal";

const GATEWAY_TRANSIENT: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  "bootloader-unreachable",
  "flash-failed",
  "boot-record-failed",
  "phase-timeout",
]);

/** Something the update engine could not do; the context names the module, port, slot or address. */
export class GatewayError extends SubflashError<GatewayErrorCode> {
  readonly domain = "gateway";

  /**
   * Whether the run may try the module's job again: reaching the bootloader, a flash or boot-record
   * write, or a phase that ran out of time can go better on a new attempt. A health check that timed
   * out is the firmware's fault, not the link's: the executor asks with the job's step.
   */
  transientAt(step: string): boolean {
    return GATEWAY_TRANSIENT.has(this.code) && !(this.code === "phase-timeout" && step === "health-check");
  }
}
