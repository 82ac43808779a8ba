/** Every CLI command, in the order `subflash --help` lists them. */
import type { Command } from "commander";
import { register as info } from "./info.js";
import { register as flash } from "./flash.js";
import { register as read } from "./read.js";
import { register as erase } from "./erase.js";
import { register as unprotect } from "./unprotect.js";
import { register as scan } from "./scan.js";
import { register as devices } from "./devices.js";
import { register as sim } from "./sim.js";
import { register as keygen } from "./keygen.js";
import { register as release } from "./release.js";
import { register as manifest } from "./manifest.js";
import { register as daemon } from "./daemon.js";
import { register as publish } from "./publish.js";
import { register as status } from "./status.js";
import { register as rollback } from "./rollback.js";
import { register as demo } from "./demo.js";

export const commands: ReadonlyArray<(program: Command) => void> = [
  info,
  flash,
  read,
  erase,
  unprotect,
  scan,
  devices,
  sim,
  keygen,
  release,
  manifest,
  daemon,
  publish,
  status,
  rollback,
  demo,
];
