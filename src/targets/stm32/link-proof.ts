/**
 * Proof that the link is sound before the first erase. A bootloader that autobauded on a wrong rate,
 * or a line that garbles bytes, can still ACK a few frames; a host that carries on erasing leaves
 * the module without firmware. So, after sync and before anything destructive:
 *
 * - what the session learnt at connect must be sane: a protocol version of the forms ST documents
 *   (AN3155 §3.1: 0x10..0x4F, e.g. 0x31 for v3.1), a Get list without unknown opcodes that contains
 *   Get and Get ID, and a product ID that names the part in use;
 * - on USART, Get and Get ID asked again must give exactly the same answers (a garbled session
 *   rarely garbles twice the same way);
 * - where the device allows reading flash (RDP level 0), the first flash bytes read again must equal
 *   those read at connect (a second, independent read of a known area).
 * Any failure is a FlashError "link-unproven" with the module untouched.
 */
import { addr, type Logger } from "../../util/logger.js";
import type { Bootloader } from "./bootloader.js";
import { Opcode, commandName } from "./commands/codes.js";
import { get, getId } from "./commands/identify.js";
import { findDevice } from "./devices.js";
import { FlashError } from "./flasher-errors.js";

const KNOWN_OPCODES: ReadonlySet<number> = new Set(Object.values(Opcode));

/** Plausible protocol version bytes: major 1..4 (AN3155 §3.1, AN4221 §4.1). */
function plausibleVersion(version: number): boolean {
  return version >= 0x10 && version <= 0x4f;
}

export interface LinkProofOptions {
  log: Logger;
}

/** Throws FlashError "link-unproven" unless the session's identity is sane and repeats. */
export async function proveLink(bl: Bootloader, options: LinkProofOptions): Promise<void> {
  const fail = (what: string, context: Record<string, unknown> = {}): never => {
    throw new FlashError(
      "link-unproven",
      `${bl.port}: the link is not proven (${what}); a wrong baud rate or a noisy line is likely. Nothing was erased`,
      { port: bl.port, ...context },
    );
  };
  if (!plausibleVersion(bl.version))
    fail(`bootloader version byte 0x${bl.version.toString(16)} is implausible`);
  const unknown = bl.commands.find((c) => !KNOWN_OPCODES.has(c));
  if (unknown !== undefined) fail(`the Get list names unknown opcode 0x${unknown.toString(16)}`);
  // Missing job commands are the flasher's "command-unsupported"; these two every bootloader lists.
  for (const code of [Opcode.get, Opcode.getId]) {
    if (!bl.supports(code)) fail(`the Get list lacks ${commandName(code)}`);
  }
  const listed = findDevice(bl.pid);
  if (listed !== undefined && listed.pid !== bl.device.pid)
    fail(`product ID 0x${bl.pid.toString(16)} is not the configured ${bl.device.name}`);
  if (listed === undefined && bl.pid !== bl.device.pid) {
    // A part named with --device whose PID is not in the table: accepted at connect on the user's word.
    options.log.warn(
      { pid: `0x${bl.pid.toString(16)}`, device: bl.device.name },
      "PID not in the device table",
    );
  }

  if (!bl.i2c) {
    try {
      const again = await bl.link.exclusive(get);
      if (again.version !== bl.version || again.commands.join() !== bl.commands.join())
        fail("Get answered differently the second time", { version: again.version });
      const id = await bl.link.exclusive(getId);
      if (id.pid !== bl.pid) fail(`Get ID answered 0x${id.pid.toString(16)}, then 0x${bl.pid.toString(16)}`);
    } catch (error) {
      if (error instanceof FlashError) throw error;
      fail(`Get / Get ID asked again failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  if (bl.rdp === "level0" && bl.flashHead.length > 0 && bl.supports(Opcode.readMemory)) {
    let head: Uint8Array | undefined;
    try {
      head = await bl.readMemory(bl.device.flash.start, bl.flashHead.length);
    } catch (error) {
      fail(
        `reading ${addr(bl.device.flash.start)} again failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!head!.every((b, i) => b === bl.flashHead[i]))
      fail(`two reads of ${addr(bl.device.flash.start)} disagree`);
  }
  options.log.debug({ version: bl.version, pid: bl.pid }, "link proven");
}
