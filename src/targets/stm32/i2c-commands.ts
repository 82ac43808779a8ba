/**
 * The command exchanges where the I2C bootloader (AN4221) differs from USART (docs/protocol.md
 * §3.1, §3.2 table). Commands whose I2C shape is the USART one, frame for frame (Read Memory, Go,
 * Get Checksum), run the shared functions in commands/*.ts on an I2C LinkIo, where every `read` is
 * one read transaction.
 *
 * Differences handled here:
 * - Get Version answers one byte (no option bytes).
 * - Get and Get ID replies must be read in ONE transaction of the right length (below).
 * - Extended Erase sends its count as its own frame `Nh Nl XOR` (ACKed), then the page list with
 *   an XOR restarting at 0 (ACKed); the special codes FFFF/FFFE/FFFD are one frame.
 * - Write Protect sends `N ~N` (ACKed), then the sectors and their XOR (ACKed), then resets.
 * - No-Stretch variants (0x32, 0x45, 0x64, 0x74, 0x83, 0x93) differ from the plain codes only in
 *   how their last status is read (BUSY polling, done by the link), so every exchange takes the
 *   opcode to send.
 *
 * READING THE GET REPLY (see also readCounted). On I2C the reply `N, version, N codes` is one read transaction, and its
 * length is only known from its first byte. Reading it in two transactions is not an option (the
 * device ends the reply when the master NACKs the first byte). Reading "generously" is not either:
 * when the master keeps clocking after the slave's last byte, an STM32 I2C slave with clock
 * stretching enabled holds SCL low waiting for a byte the ROM never writes, until the adapter or the
 * ROM's own timeout gives up (OpenBootloader resets the MCU on such timeouts, §2.6) — a stalled bus,
 * not a padded reply. So the length is GUESSED, never over: the guess is the SMALLEST command count
 * known for the protocol version (§3.5 table; 11 for an unknown version, the v1.0 list). A guess
 * that is too short is detected from N (the first byte read), costs one resynchronisation and a
 * second Get with the exact length, and never stalls the bus; a guess that is too long could.
 * Get ID (`N, PID…`, N = 1 on STM32) is read the same way with N = 1 as the guess.
 */
import { eraseUnits, unitEraseMs, type DeviceInfo } from "./device.js";
import { BootloaderError } from "./errors.js";
import { addressFrame, byteFrame, checksummed } from "./link-frames.js";
import type { LinkIo, Step } from "./link.js";
import { deviceWorstCase } from "./link-timeouts.js";
import { Opcode, commandName } from "./commands/codes.js";
import { encodeWriteData } from "./commands/memory.js";
import { encodeWriteProtect } from "./commands/protection.js";
import { EXTENDED_MAX_UNITS, eraseWorstCaseMs, type EraseRequest } from "./commands/erase.js";
import type { GetReply, IdReply } from "./commands/identify.js";

/** Command counts of the Get list per I2C protocol version (§3.5: ST ROMs; OpenBootloader's v1.2 lists 19). */
export const I2C_GET_COUNTS: ReadonlyMap<number, readonly number[]> = new Map([
  [0x10, [11]],
  [0x11, [17]],
  [0x12, [18, 19]],
]);

/** The command count to read for a Get reply: the smallest known for `version` (see the header). */
export function guessGetCount(version: number | undefined): number {
  const known = version === undefined ? undefined : I2C_GET_COUNTS.get(version);
  return known ? Math.min(...known) : 11;
}

/** No-Stretch code of each plain code (AN4221; bootloader v1.1+). */
export const NO_STRETCH: ReadonlyMap<number, number> = new Map([
  [Opcode.writeMemory, Opcode.noStretchWriteMemory],
  [Opcode.extendedErase, Opcode.noStretchExtendedErase],
  [Opcode.writeProtect, Opcode.noStretchWriteProtect],
  [Opcode.writeUnprotect, Opcode.noStretchWriteUnprotect],
  [Opcode.readoutProtect, Opcode.noStretchReadoutProtect],
  [Opcode.readoutUnprotect, Opcode.noStretchReadoutUnprotect],
]);

const PLAIN_OF: ReadonlyMap<number, number> = new Map([...NO_STRETCH].map(([plain, ns]) => [ns, plain]));

/** The plain code of a No-Stretch code (0x45 → 0x44); other codes unchanged. */
export function plainOpcode(code: number): number {
  return PLAIN_OF.get(code) ?? code;
}

export function isNoStretch(code: number): boolean {
  return PLAIN_OF.has(code);
}

/**
 * The opcode to send for `plain` on I2C, given the Get list: the No-Stretch variant when the device
 * lists it (stm32flash keeps the higher code too), else the plain code when listed, else undefined.
 */
export function i2cOpcode(
  plain: number,
  offered: ReadonlySet<number> | readonly number[],
): number | undefined {
  const has = (code: number): boolean =>
    offered instanceof Set ? offered.has(code) : (offered as readonly number[]).includes(code);
  const ns = NO_STRETCH.get(plain);
  if (ns !== undefined && has(ns)) return ns;
  return has(plain) ? plain : undefined;
}

/** True when some command of the list that waits on flash work is offered only in its stretching form. */
export function needsClockStretching(offered: readonly number[]): boolean {
  return [...NO_STRETCH].some(([plain, ns]) => offered.includes(plain) && !offered.includes(ns));
}

/** A Get / Get ID reply whose count byte says the guessed length was wrong; `context.count` has the real N. */
export function isCountMismatch(error: unknown): error is BootloaderError & { context: { count: number } } {
  return (
    error instanceof BootloaderError &&
    error.code === "bad-reply" &&
    typeof error.context.count === "number" &&
    error.context.countMismatch === true
  );
}

/** `[W:01 FE] [R:ACK] [R:version] [R:ACK]`. */
export async function i2cGetVersion(io: LinkIo): Promise<number> {
  const step: Step = { command: "Get Version", phase: "reply" };
  await io.command(Opcode.getVersion, { command: "Get Version", phase: "command" });
  const [version] = await io.read(1, step, io.timeout(1));
  await io.readAck({ command: "Get Version", phase: "final ACK" }, io.timeout(1));
  return version!;
}

/**
 * Reads a counted reply (`N, N+1 bytes`) as one transaction of `count` + 2 bytes, then its ACK.
 * The reply's own count byte decides the rest:
 * - N = `count`: complete;
 * - N > `count`: the device still owes N − `count` bytes. A ROM that sends reply bytes as the bus
 *   asks for them (OpenBootloader's loop) hands them over in the next read transaction, so they are
 *   read there, followed by the ACK; if that continuation does not end in ACK, the device dropped
 *   the rest instead, and "bad-reply" (countMismatch) makes the caller resynchronise and ask again
 *   with the exact length;
 * - N < `count`: the read ran past the reply: "bad-reply" (countMismatch) as well.
 */
async function readCounted(io: LinkIo, command: string, count: number): Promise<Uint8Array> {
  const step: Step = { command, phase: "reply" };
  const reply = await io.read(count + 2, step, io.timeout(count + 2));
  const n = reply[0]!;
  const mismatch = (detail: string, cause?: unknown): BootloaderError =>
    new BootloaderError(
      "bad-reply",
      `${io.port}: ${command} reply lists ${n + 1} byte(s) after the count, ${count + 1} were read${detail}`,
      { port: io.port, command, phase: "reply", count: n, guessed: count, countMismatch: true },
      cause === undefined ? undefined : { cause },
    );
  if (n < count) throw mismatch(" (one I2C read must fetch the whole reply)");
  if (n === count) {
    await io.readAck({ command, phase: "final ACK" }, io.timeout(1));
    return reply.subarray(1);
  }
  try {
    const rest = await io.read(n - count, { command, phase: "reply (rest)" }, io.timeout(n - count));
    await io.readAck({ command, phase: "final ACK" }, io.timeout(1));
    const whole = new Uint8Array(n + 1);
    whole.set(reply.subarray(1));
    whole.set(rest, count + 1);
    return whole;
  } catch (error) {
    throw mismatch(" and the device did not hand over the rest", error);
  }
}

/** `[W:00 FF] [R:ACK] [R: N, version, N codes] [R:ACK]`, reading N = `count` codes. */
export async function i2cGet(io: LinkIo, count: number): Promise<GetReply> {
  await io.command(Opcode.get, { command: "Get", phase: "command" });
  const payload = await readCounted(io, "Get", count);
  return { version: payload[0]!, commands: Array.from(payload.subarray(1)) };
}

/** `[W:02 FD] [R:ACK] [R: N, PID…] [R:ACK]`; N = 1 (two PID bytes) on STM32 parts. */
export async function i2cGetId(io: LinkIo, count = 1): Promise<IdReply> {
  await io.command(Opcode.getId, { command: "Get ID", phase: "command" });
  const payload = await readCounted(io, "Get ID", count);
  if (payload.length < 2) {
    throw new BootloaderError(
      "bad-reply",
      `${io.port}: Get ID reply has ${payload.length} byte(s), expected at least 2`,
      { port: io.port, length: payload.length },
    );
  }
  return { pid: ((payload[0]! << 8) | payload[1]!) & 0xfff, extra: Array.from(payload.subarray(2)) };
}

/** Write Memory 0x31 / No-Stretch Write Memory 0x32: the final status waits for programming. */
export async function i2cWriteMemory(
  io: LinkIo,
  opcode: number,
  address: number,
  data: Uint8Array,
): Promise<void> {
  const command = commandName(opcode);
  if (data.length < 1 || data.length > 256) {
    throw new BootloaderError(
      "invalid-argument",
      `${command} at 0x${address.toString(16)}: length ${data.length} is outside 1..256`,
      { command, address },
    );
  }
  await io.command(opcode, { command, phase: "command", address });
  await io.sendForAck(addressFrame(address), { command, phase: "address", address }, io.timeout(6));
  const frame = encodeWriteData(data);
  await io.sendForAck(
    frame,
    { command, phase: "data", address },
    io.timeout(frame.length + 1, deviceWorstCase.program(io.device, data.length)),
  );
}

/**
 * Extended Erase 0x44 / No-Stretch 0x45 on I2C. Special codes (mass, bank) are one frame
 * `FF Fx XOR`; a page list is two: `Nh Nl XOR` → ACK, then `pages…, XOR(pages)` → ACK (the page
 * frame's checksum covers only its own bytes: the XOR restarts at 0).
 */
export async function i2cErase(io: LinkIo, opcode: number, request: EraseRequest): Promise<void> {
  const command = commandName(opcode);
  const worstMs = eraseWorstCaseMs(io, request);
  if (request.kind !== "units") {
    const code = request.kind === "mass" ? 0xffff : request.bank === 1 ? 0xfffe : 0xfffd;
    const phase = request.kind === "mass" ? "mass erase" : `bank ${request.bank}`;
    await io.command(opcode, { command, phase: "command" });
    await io.sendForAck(
      checksummed(Uint8Array.of(code >> 8, code & 0xff)),
      { command, phase },
      io.timeout(4, worstMs),
    );
    return;
  }
  const { indexes } = request;
  if (indexes.length === 0 || indexes.length > EXTENDED_MAX_UNITS) {
    throw new BootloaderError(
      "invalid-argument",
      `${command}: ${indexes.length} pages in one command, expected 1..${EXTENDED_MAX_UNITS}`,
      { command, count: indexes.length },
    );
  }
  const bad = indexes.find((i) => !Number.isInteger(i) || i < 0 || i > 0xffff);
  if (bad !== undefined)
    throw new BootloaderError("invalid-argument", `${command}: page number ${bad} is outside 0..65535`, {
      command,
      page: bad,
    });
  const n = indexes.length - 1;
  const pages = new Uint8Array(indexes.length * 2);
  indexes.forEach((page, i) => {
    pages[i * 2] = page >> 8;
    pages[i * 2 + 1] = page & 0xff;
  });
  await io.command(opcode, { command, phase: "command" });
  await io.sendForAck(
    checksummed(Uint8Array.of(n >> 8, n & 0xff)),
    { command, phase: "count" },
    io.timeout(4),
  );
  const frame = checksummed(pages);
  await io.sendForAck(
    frame,
    { command, phase: `${indexes.length} unit(s)` },
    io.timeout(frame.length + 1, worstMs),
  );
}

/** Pause before contacting the device again after an option-byte reload reset, and the reset's allowance (ms). */
const RESET_PAUSE_MS = 100;
const RESET_BUDGET_MS = 2_000;

/**
 * Write Protect 0x63 / No-Stretch 0x64 on I2C: `N ~N` → ACK, `sectors…, XOR(sectors)` → ACK, then
 * the device resets (§1.4) and the link waits for it to answer again.
 */
export async function i2cWriteProtect(io: LinkIo, opcode: number, sectors: readonly number[]): Promise<void> {
  const command = commandName(opcode);
  const body = encodeWriteProtect(sectors).subarray(1, sectors.length + 1); // the sectors, without N and the USART checksum
  await io.command(opcode, { command, phase: "command" });
  await io.sendForAck(byteFrame(sectors.length - 1), { command, phase: "count" }, io.timeout(3));
  const frame = checksummed(body);
  await io.sendForAck(
    frame,
    { command, phase: `${sectors.length} sector(s)` },
    io.timeout(frame.length + 1, deviceWorstCase.optionBytes()),
  );
  await io.reactivateAfterReset(
    RESET_PAUSE_MS,
    io.timeout(0, deviceWorstCase.optionBytes()) + RESET_BUDGET_MS,
  );
}

/** Typical time to erase the whole flash: how long a Readout Unprotect keeps the device away. */
function typicalEraseAllMs(device: DeviceInfo | undefined): number {
  if (!device) return 1_000;
  if (device.massErase) return device.timing.massEraseMs.typ;
  return eraseUnits(device).reduce((ms, u) => ms + unitEraseMs(device, u.size, "typ"), 0);
}

/**
 * Write Unprotect (0x73/0x74), Readout Protect (0x82/0x83), Readout Unprotect (0x92/0x93):
 * `[W:cmd] [R:ACK] [R:ACK]`, then the device resets. Readout Unprotect mass-erases first: both its
 * waits are sized for a full erase (the second ACK may come before or after the erase, §2.3.12).
 */
export async function i2cOptionCommand(io: LinkIo, opcode: number): Promise<void> {
  const command = commandName(opcode);
  const plain = plainOpcode(opcode);
  if (![Opcode.writeUnprotect, Opcode.readoutProtect, Opcode.readoutUnprotect].includes(plain as 0x73)) {
    throw new BootloaderError("invalid-argument", `${command} is not an option-byte command`, { command });
  }
  const workMs =
    plain === Opcode.readoutUnprotect ? deviceWorstCase.eraseAll(io.device) : deviceWorstCase.optionBytes();
  await io.command(opcode, { command, phase: "command" });
  await io.readAck({ command, phase: "completion" }, io.timeout(1, workMs));
  const pauseMs = plain === Opcode.readoutUnprotect ? typicalEraseAllMs(io.device) : RESET_PAUSE_MS;
  await io.reactivateAfterReset(pauseMs, io.timeout(0, workMs) + RESET_BUDGET_MS);
}
