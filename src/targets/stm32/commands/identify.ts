/**
 * Get (0x00), Get Version (0x01) and Get ID (0x02): what the bootloader is and offers.
 * AN3155 §3.1–3.3; docs/protocol.md §2.3.1–2.3.3.
 */
import { BootloaderError } from "../errors.js";
import { ACK } from "../link-frames.js";
import type { LinkIo, Step } from "../link.js";
import { Opcode } from "./codes.js";

export interface GetReply {
  /** Protocol version byte, e.g. 0x31 for v3.1. */
  version: number;
  /** Opcodes the device accepts, in the order it listed them. */
  commands: number[];
}

export interface VersionReply {
  version: number;
  /** Kept for compatibility; 0x00 on current parts. Never used to detect RDP (§2.3.2). */
  option1: number;
  option2: number;
}

export interface IdReply {
  /** 12-bit product ID, e.g. 0x410. */
  pid: number;
  /** Any bytes beyond the first two (BlueNRG-style parts send 3–4). */
  extra: number[];
}

/** Decodes the Get payload that follows N: `version, N codes`. */
export function decodeGet(payload: Uint8Array): GetReply {
  if (payload.length < 1) throw new BootloaderError("bad-reply", "Get reply is empty", {});
  return { version: payload[0]!, commands: Array.from(payload.subarray(1)) };
}

/**
 * Decodes `version, option1, option2` after Get Version's first ACK. The STM32L412/422 bootloader sends
 * an extra ACK before the version (stm32flash works around the same): pass the 4 bytes read after the
 * ACK; `extraAck` tells the caller that the closing ACK is still to be read.
 */
export function decodeGetVersion(bytes: Uint8Array): { reply: VersionReply; extraAck: boolean } {
  const extraAck = bytes[0] === ACK && bytes[3] !== ACK;
  const at = extraAck ? 1 : 0;
  return { reply: { version: bytes[at]!, option1: bytes[at + 1]!, option2: bytes[at + 2]! }, extraAck };
}

/** Decodes the Get ID payload after N: `PID_MSB PID_LSB [extra…]`. */
export function decodeGetId(payload: Uint8Array): IdReply {
  if (payload.length < 2) {
    throw new BootloaderError(
      "bad-reply",
      `Get ID reply has ${payload.length} byte(s), expected at least 2`,
      { length: payload.length },
    );
  }
  return { pid: ((payload[0]! << 8) | payload[1]!) & 0xfff, extra: Array.from(payload.subarray(2)) };
}

const GET: Step = { command: "Get", phase: "reply" };
const GET_VERSION: Step = { command: "Get Version", phase: "reply" };
const GET_ID: Step = { command: "Get ID", phase: "reply" };

/** Reads a "count, count+1 bytes, ACK" reply; returns the bytes between count and ACK. */
async function readCounted(io: LinkIo, step: Step): Promise<Uint8Array> {
  const [n] = await io.read(1, step, io.timeout(1));
  const rest = await io.read(n! + 2, step, io.timeout(n! + 2));
  if (rest[rest.length - 1] !== ACK) {
    throw new BootloaderError("bad-reply", `${io.port}: ${step.command} reply does not end with ACK`, {
      port: io.port,
      command: step.command,
      byte: rest[rest.length - 1],
    });
  }
  return rest.subarray(0, n! + 1);
}

export async function get(io: LinkIo): Promise<GetReply> {
  await io.command(Opcode.get, { command: "Get", phase: "command" });
  return decodeGet(await readCounted(io, GET));
}

export async function getVersion(io: LinkIo): Promise<VersionReply> {
  await io.command(Opcode.getVersion, { command: "Get Version", phase: "command" });
  const bytes = await io.read(4, GET_VERSION, io.timeout(4));
  const { reply, extraAck } = decodeGetVersion(bytes);
  const last = extraAck ? (await io.read(1, GET_VERSION, io.timeout(1)))[0] : bytes[3];
  if (last !== ACK)
    throw new BootloaderError("bad-reply", `${io.port}: Get Version reply does not end with ACK`, {
      port: io.port,
      byte: last,
    });
  return reply;
}

export async function getId(io: LinkIo): Promise<IdReply> {
  await io.command(Opcode.getId, { command: "Get ID", phase: "command" });
  return decodeGetId(await readCounted(io, GET_ID));
}
