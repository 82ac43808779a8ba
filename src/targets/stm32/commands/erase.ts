/**
 * Erase (0x43, protocol v2.x: one-byte page numbers) and Extended Erase (0x44, v3.0+: two-byte page
 * numbers and the special codes 0xFFFF mass, 0xFFFE bank 1, 0xFFFD bank 2).
 * AN3155 §3.7–3.8; docs/protocol.md §2.3.7–2.3.8.
 */
import { eraseUnits, type DeviceInfo } from "../device.js";
import { BootloaderError } from "../errors.js";
import { checksummed } from "../link-frames.js";
import type { LinkIo } from "../link.js";
import { deviceWorstCase } from "../link-timeouts.js";
import { Opcode } from "./codes.js";

export type EraseRequest =
  /** Erase units by index (pages, or sectors on F2/F4/F7/H7). */
  | { kind: "units"; indexes: readonly number[] }
  /** Whole flash. */
  | { kind: "mass" }
  /** One bank of a dual-bank part (Extended Erase only). */
  | { kind: "bank"; bank: 1 | 2 };

/** 0x43 carries at most 255 pages (N = pages − 1 in 0..254; N = 0xFF is the global erase). */
export const LEGACY_MAX_UNITS = 255;
/** 0x44 counts from 0xFFF0 up are special codes. */
export const EXTENDED_MAX_UNITS = 0xfff0;

function invalid(message: string, context: Record<string, unknown>): BootloaderError {
  return new BootloaderError("invalid-argument", message, context);
}

function checkIndexes(command: string, indexes: readonly number[], maxCount: number, maxIndex: number): void {
  if (indexes.length === 0) throw invalid(`${command}: empty page list`, { command });
  if (indexes.length > maxCount) {
    throw invalid(`${command}: ${indexes.length} pages in one command, at most ${maxCount}`, {
      command,
      count: indexes.length,
    });
  }
  const bad = indexes.find((i) => !Number.isInteger(i) || i < 0 || i > maxIndex);
  if (bad !== undefined)
    throw invalid(`${command}: page number ${bad} is outside 0..${maxIndex}`, { command, page: bad });
}

/** The frame after 0x43's ACK: `FF 00` (global) or `N, pages…, XOR`. */
export function encodeLegacyErase(request: EraseRequest): Uint8Array {
  if (request.kind === "mass") return Uint8Array.of(0xff, 0x00);
  if (request.kind === "bank")
    throw invalid("Erase (0x43) cannot erase one bank; the device needs Extended Erase (0x44)", {});
  checkIndexes("Erase (0x43)", request.indexes, LEGACY_MAX_UNITS, 0xff);
  return checksummed(Uint8Array.of(request.indexes.length - 1, ...request.indexes));
}

const SPECIAL = { mass: 0xffff, 1: 0xfffe, 2: 0xfffd } as const;

/** The frame after 0x44's ACK: `FF FF 00` / `FF FE 01` / `FF FD 02`, or `Nh Nl, (ph pl)…, XOR`. */
export function encodeExtendedErase(request: EraseRequest): Uint8Array {
  if (request.kind !== "units") {
    const code = request.kind === "mass" ? SPECIAL.mass : SPECIAL[request.bank];
    return checksummed(Uint8Array.of(code >> 8, code & 0xff));
  }
  checkIndexes("Extended Erase (0x44)", request.indexes, EXTENDED_MAX_UNITS, 0xffff);
  const payload = new Uint8Array(2 + request.indexes.length * 2);
  const n = request.indexes.length - 1;
  payload[0] = n >> 8;
  payload[1] = n & 0xff;
  request.indexes.forEach((page, i) => {
    payload[2 + i * 2] = page >> 8;
    payload[3 + i * 2] = page & 0xff;
  });
  return checksummed(payload);
}

export type EraseOpcode = typeof Opcode.erase | typeof Opcode.extendedErase;

/**
 * Splits a unit list into the commands that carry it: at most `device.maxUnitsPerErase` per command
 * (L0/L1 refuse more than 511/512, stm32flash's split) and at most 255 with the legacy 0x43.
 */
export function eraseBatches(
  device: DeviceInfo,
  opcode: EraseOpcode,
  indexes: readonly number[],
): number[][] {
  const limit = Math.max(
    1,
    Math.min(device.maxUnitsPerErase, opcode === Opcode.erase ? LEGACY_MAX_UNITS : EXTENDED_MAX_UNITS),
  );
  const batches: number[][] = [];
  for (let i = 0; i < indexes.length; i += limit) batches.push(indexes.slice(i, i + limit));
  return batches;
}

/** Worst-case device time of an erase request, from the device table (stm32flash's 5 s/page if unknown). */
export function eraseWorstCaseMs(io: Pick<LinkIo, "device">, request: EraseRequest): number {
  if (request.kind !== "units") return deviceWorstCase.eraseAll(io.device);
  const units = io.device ? eraseUnits(io.device) : [];
  const sizes = request.indexes.map((i) => units[i]?.size ?? 0);
  return io.device ? deviceWorstCase.eraseUnits(io.device, sizes) : request.indexes.length * 5_000;
}

/** Runs one erase command with the opcode the device offers (0x44 or 0x43, chosen by the caller). */
export async function erase(io: LinkIo, opcode: EraseOpcode, request: EraseRequest): Promise<void> {
  const command = opcode === Opcode.erase ? "Erase" : "Extended Erase";
  const frame = opcode === Opcode.erase ? encodeLegacyErase(request) : encodeExtendedErase(request);
  await io.command(opcode, { command, phase: "command" });
  const phase =
    request.kind === "units"
      ? `${request.indexes.length} unit(s)`
      : request.kind === "mass"
        ? "mass erase"
        : `bank ${request.bank}`;
  await io.sendForAck(frame, { command, phase }, io.timeout(frame.length + 1, eraseWorstCaseMs(io, request)));
}
