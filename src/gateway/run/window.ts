/**
 * Maintenance windows: recurring local times when installs may start (hawkBit's maintenance
 * windows, AWS IoT Jobs' scheduling). A bundle accepted outside every window is journalled at once
 * and shown as `waiting-for-window`; its run starts when a window opens. Only the start is gated: a
 * run that has begun (or one resumed after a restart with a module already touched) goes on.
 *
 * Times are wall-clock times in the window's time zone (default: the gateway's), read with
 * Intl.DateTimeFormat, so daylight-saving changes are the zone's own. A window whose end is before
 * its start runs over midnight and belongs to the day it starts.
 */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export interface MaintenanceWindow {
  days: readonly Weekday[];
  /** "HH:MM", 24 h. */
  start: string;
  end: string;
  /** IANA zone, e.g. "Europe/Berlin"; default the gateway's local zone. */
  timeZone?: string | undefined;
}

const WEEKDAYS: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      ...(timeZone ? { timeZone } : {}),
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(key, f);
  }
  return f;
}

/** Weekday and minute of the day of `instant` in `timeZone`. */
export function localTime(instant: number, timeZone?: string): { day: Weekday; minute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(instant));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  const day = get("weekday").toLowerCase().slice(0, 3) as Weekday;
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** True when `instant` lies inside one of the windows, or when there are none. */
export function insideWindow(windows: readonly MaintenanceWindow[] | undefined, instant: number): boolean {
  if (!windows || windows.length === 0) return true;
  return windows.some((w) => {
    const { day, minute } = localTime(instant, w.timeZone);
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    if (start < end) return w.days.includes(day) && minute >= start && minute < end;
    const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
    return (w.days.includes(day) && minute >= start) || (w.days.includes(yesterday) && minute < end);
  });
}

/**
 * Resolves once `now()` is inside a window (checked every `pollMs`: a minute-resolution schedule needs
 * no more, and wall-clock jumps are followed), or when `signal` aborts (a cancel).
 */
export async function waitForWindow(
  windows: readonly MaintenanceWindow[] | undefined,
  signal: AbortSignal,
  now: () => number = Date.now,
  pollMs = 15_000,
  halted: () => boolean = () => false,
): Promise<void> {
  while (!signal.aborted && !halted() && !insideWindow(windows, now())) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs).unref();
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
