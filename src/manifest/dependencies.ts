/**
 * Dependencies between module types: each must be satisfiable (by the bundle or by what is
 * installed), the graph must be acyclic, and `order` must put every dependency strictly first,
 * so the gateway can plan from `order` alone (equal orders may run in parallel).
 */
import type { Manifest, ModuleType } from "./types.js";
import { compareVersions, isVersion } from "./version.js";

export type DependencyProblem =
  | { code: "dependency-cycle"; message: string; detail: { cycle: ModuleType[] } }
  | {
      code: "dependency-unsatisfied";
      message: string;
      detail: { moduleType: ModuleType; dependsOn: ModuleType; minVersion: string; found?: string };
    }
  | { code: "dependency-order"; message: string; detail: { moduleType: ModuleType; dependsOn: ModuleType } };

/**
 * The first dependency problem of a manifest, or undefined. `installed` are the versions on the
 * gateway now; when it is not given, dependencies on module types outside the bundle are not checked.
 */
export function findDependencyProblem(
  manifest: Manifest,
  installed?: Readonly<Record<ModuleType, string>>,
): DependencyProblem | undefined {
  const cycle = findCycle(manifest);
  if (cycle)
    return { code: "dependency-cycle", message: `dependency cycle: ${cycle.join(" → ")}`, detail: { cycle } };

  for (const [type, entry] of Object.entries(manifest.modules)) {
    for (const dep of entry.dependsOn) {
      const inBundle = Object.hasOwn(manifest.modules, dep.moduleType)
        ? manifest.modules[dep.moduleType]
        : undefined;
      const found = inBundle
        ? inBundle.version
        : installed && Object.hasOwn(installed, dep.moduleType)
          ? installed[dep.moduleType]
          : undefined;
      if (!inBundle && !installed) continue;
      const detail = {
        moduleType: type,
        dependsOn: dep.moduleType,
        minVersion: dep.minVersion,
        ...(found !== undefined && { found }),
      };
      if (found === undefined) {
        return {
          code: "dependency-unsatisfied",
          message: `${type} needs ${dep.moduleType} ≥ ${dep.minVersion}, which is neither in the bundle nor installed`,
          detail,
        };
      }
      if (!isVersion(found) || compareVersions(found, dep.minVersion) < 0) {
        const where = inBundle ? "the bundle brings" : "installed is";
        return {
          code: "dependency-unsatisfied",
          message: `${type} needs ${dep.moduleType} ≥ ${dep.minVersion}, ${where} ${found}`,
          detail,
        };
      }
      if (inBundle && inBundle.order >= entry.order) {
        return {
          code: "dependency-order",
          message: `${type} (order ${entry.order}) depends on ${dep.moduleType} (order ${inBundle.order}), which must come strictly first`,
          detail: { moduleType: type, dependsOn: dep.moduleType },
        };
      }
    }
  }
  return undefined;
}

/** Module types grouped by `order`, lowest first; each group may be updated in parallel. */
export function updateStages(manifest: Manifest): ModuleType[][] {
  const byOrder = new Map<number, ModuleType[]>();
  for (const [type, entry] of Object.entries(manifest.modules))
    byOrder.set(entry.order, [...(byOrder.get(entry.order) ?? []), type]);
  return [...byOrder.entries()].sort((a, b) => a[0] - b[0]).map(([, types]) => types.sort());
}

/** A cycle among the bundle's own module types (as a path that returns to its start), or undefined. */
function findCycle(manifest: Manifest): ModuleType[] | undefined {
  const state = new Map<ModuleType, "visiting" | "done">();
  const path: ModuleType[] = [];
  const visit = (type: ModuleType): ModuleType[] | undefined => {
    if (state.get(type) === "done") return undefined;
    if (state.get(type) === "visiting") return [...path.slice(path.indexOf(type)), type];
    state.set(type, "visiting");
    path.push(type);
    for (const dep of manifest.modules[type]?.dependsOn ?? []) {
      if (!Object.hasOwn(manifest.modules, dep.moduleType)) continue;
      const cycle = visit(dep.moduleType);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(type, "done");
    return undefined;
  };
  for (const type of Object.keys(manifest.modules).sort()) {
    const cycle = visit(type);
    if (cycle) return cycle;
  }
  return undefined;
}
