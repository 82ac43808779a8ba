/**
 * `subflash status --summary`: a fleet of hundreds of gateways in a screenful: gateways online, per
 * group and overall counts per installed release and per module state.
 */
import type { GatewayView } from "./fleet-view.js";

export function renderFleetSummary(gateways: readonly GatewayView[]): string {
  const groups = new Map<string, GatewayView[]>();
  for (const g of gateways) {
    const names = g.status?.groups ?? g.inventory?.groups ?? [];
    for (const name of names.length > 0 ? names : ["(no group)"]) {
      const list = groups.get(name) ?? [];
      list.push(g);
      groups.set(name, list);
    }
  }
  const lines = [`${gateways.length} gateways, ${gateways.filter((g) => g.online === true).length} online`];
  lines.push(...section("all", gateways));
  for (const [name, list] of [...groups].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(...section(`group ${name}`, list));
  return `${lines.join("\n")}\n`;
}

function section(title: string, gateways: readonly GatewayView[]): string[] {
  const releases = new Map<string, number>();
  const states = new Map<string, number>();
  const bundles = new Map<string, number>();
  for (const g of gateways) {
    for (const m of g.modules.values()) {
      releases.set(m.release ?? "(factory)", (releases.get(m.release ?? "(factory)") ?? 0) + 1);
      states.set(m.state, (states.get(m.state) ?? 0) + 1);
    }
    const b = g.status?.bundle;
    const key = b ? `${b.release} ${b.state}` : "(none)";
    bundles.set(key, (bundles.get(key) ?? 0) + 1);
  }
  const fmt = (map: Map<string, number>): string =>
    [...map]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k}: ${n}`)
      .join(", ");
  return [
    `${title} (${gateways.length} gateways, ${gateways.filter((g) => g.online === true).length} online)`,
    `  last bundle    ${fmt(bundles)}`,
    `  module release ${fmt(releases)}`,
    `  module state   ${fmt(states)}`,
  ];
}
