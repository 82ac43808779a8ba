/**
 * Byte strings in the configuration (application commands, health probes):
 * - "hex:7f 00 ff" (spaces, commas and colons between bytes are ignored);
 * - "text:boot\n" or plain "boot\n": text with \n, \r, \t, \\ and \xNN escapes, encoded as UTF-8.
 */

/** Parses a byte string; throws a RangeError naming the offending part. */
export function parseByteString(spec: string): Uint8Array {
  if (spec.startsWith("hex:")) {
    const digits = spec.slice(4).replace(/[\s,:]/g, "");
    if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(digits)) {
      throw new RangeError(`"${spec}" is not a hex byte string (expected pairs of hex digits after "hex:")`);
    }
    return Uint8Array.from(digits.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
  }
  const text = spec.startsWith("text:") ? spec.slice(5) : spec;
  return unescapeText(text);
}

function unescapeText(text: string): Uint8Array {
  const out: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== "\\") {
      // Encode one code point at a time so non-ASCII text stays valid UTF-8.
      const cp = text.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      out.push(...encoder.encode(s));
      i += s.length - 1;
      continue;
    }
    const next = text[++i];
    switch (next) {
      case "n":
        out.push(0x0a);
        break;
      case "r":
        out.push(0x0d);
        break;
      case "t":
        out.push(0x09);
        break;
      case "\\":
        out.push(0x5c);
        break;
      case "x": {
        const pair = text.slice(i + 1, i + 3);
        if (!/^[0-9a-f]{2}$/i.test(pair))
          throw new RangeError(`bad escape "\\x${pair}" in "${text}" (expected two hex digits)`);
        out.push(Number.parseInt(pair, 16));
        i += 2;
        break;
      }
      default:
        throw new RangeError(
          `unknown escape "\\${next ?? ""}" in "${text}" (use \\n, \\r, \\t, \\\\ or \\xNN)`,
        );
    }
  }
  return Uint8Array.from(out);
}
