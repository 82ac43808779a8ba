/**
 * Plain-text table of gateways and their modules, for `subflash status` and the demo:
 *
 *   gateway gw-1  online  bundle demo-2.0.0 #2 running
 *     refused  bundle demo-1.0.0 #1 rejected: replayed
 *   MODULE   TYPE      STATE     VERSION  SLOT  VERIFIED  PROGRESS            ETA  ERROR
 *   power    pwr-f103  writing   1.0.0    a     -         write  42% ████▏     3s   -
 *
 * The `bundle` is the last one accepted (running or finished); the `refused` line, the last bundle
 * the gateway refused since it started. VERIFIED is how the written image was checked on the device
 * (`crc`: the bootloader's Get Checksum; `readback`; `none`).
 * No colours or cursor tricks here; `--watch` redraws the whole table.
 */
import type { WireGatewayStatus, WireModuleStatus } from "../contract/contract.js";
import type { GatewayView } from "./fleet-view.js";

const BAR_WIDTH = 10;

export function renderStatusTable(gateways: readonly GatewayView[]): string {
  if (gateways.length === 0) return "no gateway status found (nothing retained under this prefix yet)\n";
  return gateways.map(renderGateway).join("\n");
}

function renderGateway(view: GatewayView): string {
  const online = view.online === null ? "online ?" : view.online ? "online" : "OFFLINE";
  const bundle = view.status?.bundle;
  const lastRun = view.status?.lastRun;
  // The last run's own summary ("rollback committed") when the gateway gives one, so the line agrees
  // with the modules below it; older gateways only tell the last bundle.
  const bundleText = lastRun
    ? `  ${lastRun.summary}`
    : bundle
      ? `  bundle ${bundle.release} #${bundle.sequence} ${bundle.state}${bundle.error ? ` (${bundle.error.code})` : ""}`
      : "";
  const rejected = view.status?.lastRejected;
  const alert = view.status?.stateAlert;
  // Every bundle is refused until an operator acknowledges: say so above everything else.
  const refusing = alert ? `    REFUSING BUNDLES  ${alert.code}: ${alert.message}\n` : "";
  const header = `gateway ${view.gateway}  ${online}${bundleText}\n${refusing}${rejected ? `    refused  ${describeRefusal(rejected)}\n` : ""}`;
  const modules = [...view.modules.values()].sort((a, b) => a.module.localeCompare(b.module));
  if (modules.length === 0) return `${header}  (no module status)\n`;
  const rows = modules.map(moduleRow);
  return (
    header +
    table(["MODULE", "TYPE", "STATE", "VERSION", "SLOT", "VERIFIED", "PROGRESS", "ETA", "ERROR"], rows)
  );
}

/**
 * "bundle demo-2.0.0 #1 rejected: replayed", or "bundle (unverified) rejected: bad-signature" when
 * the gateway refused it before it could trust what the manifest says.
 */
export function describeRefusal(rejected: NonNullable<WireGatewayStatus["lastRejected"]>): string {
  const name = rejected.release === null ? "(unverified)" : rejected.release;
  const sequence = rejected.sequence === null ? "" : ` #${rejected.sequence}`;
  return `bundle ${name}${sequence} rejected: ${rejected.error.code}`;
}

function moduleRow(m: WireModuleStatus): string[] {
  const version =
    m.targetVersion && m.targetVersion !== m.version
      ? `${m.version ?? "-"} → ${m.targetVersion}`
      : (m.version ?? "-");
  return [
    m.module,
    m.moduleType ?? "-",
    m.state,
    version,
    m.activeSlot ?? "-",
    m.verification ?? "-",
    progressText(m),
    m.remainingSeconds !== null && m.remainingSeconds !== undefined && m.progress
      ? `${Math.round(m.remainingSeconds)}s`
      : "-",
    m.lastError ? `${m.lastError.code}` : "-",
  ];
}

function progressText(m: WireModuleStatus): string {
  if (!m.progress) return "-";
  const percent = Math.max(0, Math.min(100, m.progress.percent));
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const bar = "█".repeat(filled) + "·".repeat(BAR_WIDTH - filled);
  return `${m.progress.phase.padEnd(6)} ${String(Math.round(percent)).padStart(3)}% ${bar}`;
}

function table(headings: string[], rows: string[][]): string {
  const widths = headings.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - [...c].length))).join("  ")}\n`;
  return line(headings) + rows.map(line).join("");
}
