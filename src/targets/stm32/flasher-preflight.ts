/**
 * What a flash job settles before it touches the device: the verification method, that the
 * bootloader offers every command the job needs, the plan (erase units, blocks), and the modelled
 * time of each phase (for progress and for the result's full-image estimate). Everything here either
 * returns or throws with "nothing was erased".
 */
import type { FirmwareImage } from "../image/image.js";
import type { Bootloader } from "./bootloader.js";
import { Opcode, commandName } from "./commands/codes.js";
import { programMs, unitEraseMs } from "./device.js";
import { BootloaderError } from "./errors.js";
import type { FlashOptions, VerifyMode } from "./flash-types.js";
import { FlashError } from "./flasher-errors.js";
import { planFlash, type FlashPlan, type WriteBlock } from "./flasher-plan.js";
import type { PhaseEstimate } from "./flasher-progress.js";

/** Per-command bookkeeping bytes of a Write Memory / Read Memory block on the wire (§5.3). */
const BLOCK_OVERHEAD_BYTES = 12;
/** Allowance per command turnaround in the progress model (USB-serial latency), ms. */
const TURNAROUND_MS = 1;

/** Modelled cost of one Get Checksum exchange (~20 bytes on the wire, the device's CRC, turnarounds), ms. */
export function checksumExchangeMs(bl: Bootloader): number {
  return bl.link.wireMs(20) + 5;
}

/** The effective verification: "auto" becomes crc when the device lists 0xA1, else readback. */
export function resolveVerify(bl: Bootloader, mode: VerifyMode): Exclude<VerifyMode, "auto"> {
  if (mode === "auto") return bl.supports(Opcode.getChecksum) ? "crc" : "readback";
  return mode;
}

/** Commands the flash job needs from the Get list. */
function needs(verify: Exclude<VerifyMode, "auto">): number[] {
  return [
    Opcode.writeMemory,
    ...(verify === "crc" ? [Opcode.getChecksum] : verify === "readback" ? [Opcode.readMemory] : []),
  ];
}

/** The plan and verification of a job, or the reason it cannot start (readout protection, a missing command). */
export function preflight(
  bl: Bootloader,
  image: FirmwareImage,
  options: FlashOptions,
): { plan: FlashPlan; verify: Exclude<VerifyMode, "auto"> } {
  if (bl.rdp === "level1") {
    throw new BootloaderError(
      "readout-protected",
      `${bl.port}: ${bl.device.name} is readout-protected (RDP level 1) and refuses erase, write and read; ` +
        "lifting it (subflash unprotect --readout) mass-erases the flash. Nothing was erased",
      { port: bl.port },
    );
  }
  const verify = resolveVerify(bl, options.verify ?? "auto");
  const missing = needs(verify).find((code) => !bl.supports(code));
  if (missing !== undefined) {
    const why = missing === Opcode.getChecksum ? " (asked for by --verify crc; use auto or readback)" : "";
    throw new BootloaderError(
      "command-unsupported",
      `${bl.port}: the bootloader does not offer ${commandName(missing)}${why}; nothing was erased`,
      {
        port: bl.port,
        command: commandName(missing),
      },
    );
  }
  const opcode = bl.eraseOpcode;
  if (opcode === undefined) {
    throw new FlashError(
      "cannot-plan",
      `${bl.port}: the bootloader lists neither Erase (0x43) nor Extended Erase (0x44); nothing was erased`,
      {
        port: bl.port,
      },
    );
  }
  return { plan: planFlash(bl.device, image, { opcode, erase: options.erase ?? "auto" }), verify };
}

/** Modelled phases of erasing and writing `plan`, then verifying `verified` (default: the same plan). */
export function estimatePhases(
  bl: Bootloader,
  plan: FlashPlan,
  verify: Exclude<VerifyMode, "auto">,
  verified: FlashPlan = plan,
): PhaseEstimate[] {
  const { device, link } = bl;
  const eraseMs =
    plan.erase.kind === "mass"
      ? device.timing.massEraseMs.typ
      : plan.erase.units.reduce((ms, u) => ms + unitEraseMs(device, u.size), 0);
  const blockMs = (b: WriteBlock): number =>
    link.wireMs(b.data.length + BLOCK_OVERHEAD_BYTES) + 3 * TURNAROUND_MS;
  const writeMs = plan.blocks.reduce((ms, b) => ms + blockMs(b) + programMs(device, b.data.length), 0);
  const verifyMs =
    verify === "readback"
      ? verified.blocks.reduce((ms, b) => ms + blockMs(b), 0)
      : verify === "crc"
        ? verified.ranges.length * checksumExchangeMs(bl)
        : 0;
  return [
    { phase: "erase", ms: eraseMs + 1 },
    { phase: "write", ms: writeMs + 1 },
    { phase: "verify", ms: verifyMs },
  ];
}
