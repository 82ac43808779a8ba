/** Formatting of manifest values for messages and `inspect`. */

/** POSIX seconds as an ISO-8601 instant, or "<n> s" when outside the range Date can show. */
export function formatTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s` : date.toISOString();
}

/** A CRC or other 32-bit value: "0x0376e6e7". */
export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

/** A product ID as the device table writes it: "0x413". */
export function formatPid(pid: number): string {
  return `0x${pid.toString(16).padStart(3, "0")}`;
}
