/**
 * The demo's live display of one gateway's modules, fed by the operator's view of the retained
 * status (what an operator would see, not the engine's internals). On a terminal the module lines
 * are redrawn in place; elsewhere (CI logs, pipes) each state change is printed once.
 */
import type { WireModuleStatus } from "../../mqtt/operator/index.js";
import type { FleetWatcher } from "../../mqtt/operator/index.js";

export interface LiveViewOptions {
  watcher: FleetWatcher;
  gateway: string;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Redraw period on a terminal, ms. */
  intervalMs?: number;
}

export class LiveView {
  readonly #opts: LiveViewOptions;
  readonly #tty: boolean;
  readonly #lastState = new Map<string, string>();
  #drawn = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: LiveViewOptions) {
    this.#opts = opts;
    this.#tty = opts.out.isTTY === true && !process.env.CI;
  }

  start(): void {
    for (const m of this.#modules()) this.#lastState.set(m.module, m.state);
    if (this.#tty) {
      this.#draw();
      this.#timer = setInterval(() => this.#draw(), this.#opts.intervalMs ?? 150);
    } else {
      this.#opts.watcher.on("change", this.#onChange);
    }
  }

  /** Final picture: on a terminal the last redraw stays on screen. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#tty) this.#draw();
    this.#opts.watcher.off("change", this.#onChange);
    this.#drawn = 0;
  }

  readonly #onChange = (): void => {
    for (const m of this.#modules()) {
      if (this.#lastState.get(m.module) === m.state) continue;
      this.#lastState.set(m.module, m.state);
      this.#opts.out.write(`    ${line(m)}\n`);
    }
  };

  #draw(): void {
    const lines = this.#modules().map((m) => `    ${line(m)}`);
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    this.#opts.out.write(`${up}${lines.map((l) => `${l}\x1b[K`).join("\n")}\n`);
    this.#drawn = lines.length;
  }

  #modules(): WireModuleStatus[] {
    const view = this.#opts.watcher.view.gateway(this.#opts.gateway);
    return [...(view?.modules.values() ?? [])].sort((a, b) => a.module.localeCompare(b.module));
  }
}

/** "radio    writing        47% █████·····  1.0.0 → 2.0.0  slot a  ~2s" */
export function line(m: WireModuleStatus): string {
  const percent = m.progress ? Math.max(0, Math.min(100, m.progress.percent)) : null;
  const bar =
    percent === null
      ? " ".repeat(15)
      : `${String(Math.round(percent)).padStart(3)}% ${"█".repeat(Math.round(percent / 10)).padEnd(10, "·")}`;
  const version =
    m.targetVersion && m.targetVersion !== m.version
      ? `${m.version ?? "?"} → ${m.targetVersion}`
      : (m.version ?? "?");
  const eta =
    m.progress && m.remainingSeconds !== null && m.remainingSeconds !== undefined
      ? `  ~${Math.ceil(m.remainingSeconds)}s`
      : "";
  const error = m.lastError ? `  ${m.lastError.code}` : "";
  return `${m.module.padEnd(8)} ${m.state.padEnd(19)} ${bar}  ${version.padEnd(15)} slot ${(m.activeSlot ?? "-").padEnd(6)}${eta}${error}`;
}
