import { SubflashError } from "../../util/errors.js";

export type SimErrorCode =
  | "bad-option" // a SimOptions value the simulator cannot use (baud, command list, flash image…)
  | "flash-file-invalid" // the persisted flash file does not fit the device
  | "closed"; // the module was closed

/** The simulated module was misconfigured or used after close. */
export class SimError extends SubflashError<SimErrorCode> {
  readonly domain = "sim";
}
