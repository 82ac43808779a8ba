/** Byte helpers shared by the signing and manifest layers. */

const HEX_RE = /^(?:[0-9a-f]{2})*$/i;

/** Lower-case hex, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Parses hex (either case); undefined when the text is not an even-length hex string. */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX_RE.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
