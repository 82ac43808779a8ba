/**
 * The one parser of broker addresses, for every `--broker` option and the daemon's `mqtt.url`:
 *
 *   host:port                → mqtt://host:port (also [v6addr]:port)
 *   mqtt:// mqtts:// ws:// wss:// URLs, with an optional user@, port and (for ws) path
 *
 * Anything else — another scheme, no host, a port that is 0, above 65535 or not a number — is
 * refused with a message saying what was expected, before any connection is tried (a bad port would
 * otherwise be retried forever).
 */
import { SubflashError } from "./errors.js";

/** A broker address that is not one (code "bad-url"); util has no layer above it to borrow an error from. */
export class BrokerUrlError extends SubflashError<"bad-url"> {
  readonly domain = "mqtt";
}

export const BROKER_SCHEMES = ["mqtt", "mqtts", "ws", "wss"] as const;

const EXPECTED = "expected host:port or an mqtt://, mqtts://, ws:// or wss:// URL";

/** The broker URL `input` stands for, normalized (host:port gets mqtt://). Throws BrokerUrlError "bad-url". */
export function parseBrokerUrl(input: string): string {
  const text = input.trim();
  const bad = (why: string): never => {
    throw new BrokerUrlError("bad-url", `broker "${input}": ${why}`, { broker: input });
  };
  if (text === "") bad(`empty; ${EXPECTED}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (!scheme) {
    // No scheme: host:port only.
    const hostPort = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+):([^:/]*)$/i.exec(text);
    if (!hostPort) bad(`no scheme and not host:port; ${EXPECTED}`);
    checkPort(hostPort![2]!, bad);
    return `mqtt://${text}`;
  }
  const name = scheme[1]!.toLowerCase();
  if (!(BROKER_SCHEMES as readonly string[]).includes(name))
    bad(`unsupported scheme "${scheme[1]}://"; ${EXPECTED}`);
  const rest = text.slice(scheme[0].length);
  const authority = /^[^/?#]*/.exec(rest)![0];
  const hostAndPort = authority.slice(authority.lastIndexOf("@") + 1);
  const parts = /^(\[[0-9a-f:.]+\]|[^:[\]]*)(?::(.*))?$/i.exec(hostAndPort);
  if (!parts || parts[1] === "") bad(`no host; ${EXPECTED}`);
  if (parts![2] !== undefined) checkPort(parts![2], bad);
  try {
    new URL(text);
  } catch {
    bad(`not a valid URL; ${EXPECTED}`);
  }
  return `${name}://${rest}`;
}

function checkPort(port: string, bad: (why: string) => never): void {
  if (!/^\d+$/.test(port)) bad(`port "${port}" is not a number (1–65535)`);
  const n = Number(port);
  if (n < 1 || n > 65535) bad(`port ${port} is out of range (1–65535)`);
}
