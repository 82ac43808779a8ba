/**
 * Fault injection: a small declarative list of faults with counters, consulted by the wire model and
 * the command engine. Counting starts when the fault is injected and is 1-based: `atByte: 1` is the
 * next byte in that direction, `nth: 1` the next Write Memory. Each fault fires once.
 */

export type FaultDirection = "rx" | "tx";

export type SimFault =
  /** The byte never arrives (host→device: "rx"; device→host: "tx"). It still takes its wire time. */
  | { kind: "drop"; direction: FaultDirection; atByte: number }
  /** The byte arrives with the bits of `mask` flipped (default 0x01). */
  | { kind: "corrupt"; direction: FaultDirection; atByte: number; mask?: number }
  /** The nth Write Memory ends in NACK at its final phase, nothing programmed. */
  | { kind: "nack-write"; nth: number }
  /**
   * Power goes while host→device byte `atByte` is on the wire: the module goes silent ("off"),
   * replies not yet completed are lost, a flash operation in progress keeps only what it had done.
   * `sim.powerOn()` brings it back (WAIT_SYNC, flash as it was).
   */
  | { kind: "power-cut"; atByte: number }
  /**
   * The nth flash operation (program, erase, option bytes) stays busy `ms` longer. On USART the
   * final ACK comes that much later; an I2C front-end answers BUSY (0x76) meanwhile.
   */
  | { kind: "busy"; nth: number; ms: number }
  /**
   * The nth Get Checksum over exactly [address, address + length) answers `answer` instead of the CRC
   * of the flash: a device whose checksum cannot be trusted (a host that skips on it must still be
   * caught by its final verification).
   */
  | { kind: "checksum-lies"; nth: number; address: number; length: number; answer: number };

export interface ActiveFault {
  readonly fault: SimFault;
  /** Events still to count before it fires. */
  remaining: number;
  fired: boolean;
}

export type ByteVerdict =
  { action: "keep" } | { action: "drop" } | { action: "corrupt"; mask: number } | { action: "power-cut" };

const KEEP: ByteVerdict = { action: "keep" };

export class FaultList {
  readonly #active: ActiveFault[] = [];

  /** All injected faults with their counters, fired ones included. */
  get faults(): readonly ActiveFault[] {
    return this.#active;
  }

  add(fault: SimFault): ActiveFault {
    const count = "atByte" in fault ? fault.atByte : fault.nth;
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`sim fault ${fault.kind}: count must be an integer ≥ 1, got ${count}`);
    const entry: ActiveFault = { fault, remaining: count, fired: false };
    this.#active.push(entry);
    return entry;
  }

  clear(): void {
    this.#active.length = 0;
  }

  /** True when some pending fault counts bytes in this direction (the per-byte path is needed). */
  watchesBytes(direction: FaultDirection): boolean {
    return this.#active.some((a) => !a.fired && byteDirection(a.fault) === direction);
  }

  /** Counts one byte in `direction` and says what happens to it. */
  onByte(direction: FaultDirection): ByteVerdict {
    let verdict = KEEP;
    for (const a of this.#active) {
      if (a.fired || byteDirection(a.fault) !== direction) continue;
      if (--a.remaining > 0) continue;
      a.fired = true;
      const f = a.fault;
      if (f.kind === "power-cut") return { action: "power-cut" };
      if (f.kind === "drop") verdict = { action: "drop" };
      else if (f.kind === "corrupt" && verdict.action === "keep")
        verdict = { action: "corrupt", mask: f.mask ?? 0x01 };
    }
    return verdict;
  }

  /** Counts one Write Memory; true when it must fail. */
  onWrite(): boolean {
    return this.#countEvent("nack-write") !== undefined;
  }

  /** Counts one Get Checksum over [address, address + length); the lie to answer instead, if any. */
  onChecksum(address: number, length: number): number | undefined {
    let answer: number | undefined;
    for (const a of this.#active) {
      const f = a.fault;
      if (a.fired || f.kind !== "checksum-lies" || f.address !== address || f.length !== length) continue;
      if (--a.remaining > 0) continue;
      a.fired = true;
      answer = f.answer >>> 0;
    }
    return answer;
  }

  /** Counts one flash operation; the extra busy time it gets (ms). */
  onFlashWork(): number {
    const f = this.#countEvent("busy");
    return f?.kind === "busy" ? f.ms : 0;
  }

  #countEvent(kind: "nack-write" | "busy"): SimFault | undefined {
    let hit: SimFault | undefined;
    for (const a of this.#active) {
      if (a.fired || a.fault.kind !== kind) continue;
      if (--a.remaining > 0) continue;
      a.fired = true;
      hit = a.fault;
    }
    return hit;
  }
}

function byteDirection(f: SimFault): FaultDirection | undefined {
  if (f.kind === "drop" || f.kind === "corrupt") return f.direction;
  if (f.kind === "power-cut") return "rx";
  return undefined;
}
