/**
 * A tiny raw-byte host for driving the simulator in tests: no link layer, just frames and replies.
 * (Deliberately not the project's host stack: these tests pin the device side byte by byte.)
 */
import type { StreamTransport } from "../../../src/targets/transport/transport.js";
import type { SimulatedModule } from "../../../src/sim/module/index.js";

export const ACK = 0x79;
export const NACK = 0x1f;

/** The bytes followed by their XOR. */
export function withXor(...bytes: number[]): number[] {
  return [...bytes, bytes.reduce((x, b) => x ^ b, 0)];
}

/** A 4-byte big-endian address and its XOR. */
export function addressFrame(address: number): number[] {
  return withXor((address >>> 24) & 0xff, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);
}

/** Count byte N-1, the data, XOR of all (Write Memory data frame). */
export function dataFrame(data: ArrayLike<number>): number[] {
  return withXor(data.length - 1, ...Array.from(data));
}

export class RawHost {
  readonly port: StreamTransport;

  constructor(readonly sim: SimulatedModule) {
    this.port = sim.openUsart();
  }

  async send(...bytes: number[]): Promise<void> {
    await this.port.write(Uint8Array.from(bytes));
  }

  async read(n: number, timeoutMs = 500): Promise<number[]> {
    return Array.from(await this.port.read(n, timeoutMs));
  }

  /** Asserts that nothing arrives within `ms`. */
  async silence(ms = 30): Promise<boolean> {
    try {
      await this.port.read(1, ms);
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === "timeout") return true;
      throw error;
    }
  }

  async sync(): Promise<number> {
    await this.send(0x7f);
    return (await this.read(1))[0]!;
  }

  /** Sends `op ~op` and returns the first reply byte. */
  async command(op: number): Promise<number> {
    await this.send(op, op ^ 0xff);
    return (await this.read(1))[0]!;
  }

  /** Sends a frame and returns the one status byte that answers it. */
  async frame(bytes: number[], timeoutMs = 500): Promise<number> {
    await this.send(...bytes);
    return (await this.read(1, timeoutMs))[0]!;
  }

  /** Read Memory: the data, or the NACK as a number at the phase that refused. */
  async readMemory(
    address: number,
    length: number,
  ): Promise<number[] | { nackAt: "command" | "address" | "count" }> {
    if ((await this.command(0x11)) !== ACK) return { nackAt: "command" };
    if ((await this.frame(addressFrame(address))) !== ACK) return { nackAt: "address" };
    if ((await this.frame([length - 1, (length - 1) ^ 0xff])) !== ACK) return { nackAt: "count" };
    return this.read(length);
  }

  /** Write Memory: "ack" or the phase that NACKed. */
  async writeMemory(
    address: number,
    data: ArrayLike<number>,
    timeoutMs = 500,
  ): Promise<"ack" | "nack-command" | "nack-address" | "nack-data"> {
    if ((await this.command(0x31)) !== ACK) return "nack-command";
    if ((await this.frame(addressFrame(address))) !== ACK) return "nack-address";
    return (await this.frame(dataFrame(data), timeoutMs)) === ACK ? "ack" : "nack-data";
  }

  /** Extended Erase of a page list: the final status byte. */
  async extendedErase(pages: number[], timeoutMs = 500): Promise<number> {
    if ((await this.command(0x44)) !== ACK) return NACK;
    const n = pages.length - 1;
    return this.frame(withXor(n >> 8, n & 0xff, ...pages.flatMap((p) => [p >> 8, p & 0xff])), timeoutMs);
  }

  /** Extended Erase special code (0xFFFF mass, 0xFFFE/0xFFFD banks, reserved…). */
  async extendedEraseSpecial(code: number, timeoutMs = 500): Promise<number> {
    if ((await this.command(0x44)) !== ACK) return NACK;
    return this.frame(withXor(code >> 8, code & 0xff), timeoutMs);
  }

  async close(): Promise<void> {
    await this.port.close();
  }
}

/** A deterministic pseudo-random buffer. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
