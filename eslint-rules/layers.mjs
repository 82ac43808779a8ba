/**
 * The layer rules of ARCHITECTURE.md, enforced on every import in src/:
 *
 * 1. A layer imports only the layers below it (LAYERS below): targets never imports manifest or
 *    gateway, the gateway never imports MQTT, only the CLI and the simulator wing sit on top.
 * 2. Another layer is reached only through its entry file (ENTRIES): `src/targets/index.ts`, not
 *    `src/targets/stm32/flasher.ts`. Inside a layer, files import each other freely.
 * 3. Only the transports touch hardware (serialport, i2c-bus, child processes such as gpioset), and
 *    only src/mqtt knows MQTT (mqtt, aedes).
 *
 * Tests and benchmarks are outside these rules: they test files where they live.
 */
import path from "node:path";

/** layer -> the layers it may import (util is the leaf toolkit every layer may use). */
export const LAYERS = {
  util: [],
  signing: ["util"],
  targets: ["util"],
  manifest: ["util", "signing", "targets"],
  gateway: ["util", "signing", "manifest", "targets"],
  mqtt: ["util", "signing", "manifest", "gateway"],
  http: ["util", "gateway", "mqtt"],
  sim: ["util", "signing", "manifest", "targets", "gateway", "mqtt"],
  cli: ["util", "signing", "manifest", "targets", "gateway", "mqtt", "http", "sim"],
  // src/index.ts and src/testing.ts: the package's public faces.
  "(root)": ["util", "signing", "manifest", "targets", "gateway", "mqtt", "http", "sim"],
};

/**
 * The entry files through which other layers reach a layer, relative to src/. util has none: each
 * of its files is a small self-standing tool. MQTT has one per actor, so the daemon does not load
 * the operator side or the embedded broker, and bench commands load none of them.
 */
export const ENTRIES = {
  signing: ["signing/index.ts"],
  targets: ["targets/index.ts"],
  manifest: ["manifest/index.ts"],
  gateway: ["gateway/index.ts"],
  mqtt: ["mqtt/gateway/index.ts", "mqtt/operator/index.ts", "mqtt/broker/index.ts"],
  http: ["http/index.ts"],
  sim: ["sim/index.ts"],
};

/** Packages only one place may import: [package-name test, allowed folder under src/, why]. */
const OWNED_PACKAGES = [
  [
    (p) => p === "serialport" || p.startsWith("@serialport/"),
    "targets/transport",
    "only transports open devices",
  ],
  [(p) => p === "i2c-bus", "targets/transport", "only transports open devices"],
  [
    (p) => p === "node:child_process" || p === "child_process",
    "targets/transport",
    "only transports run hardware tools",
  ],
  [(p) => p === "mqtt" || p === "aedes" || p.startsWith("mqtt/"), "mqtt", "only src/mqtt knows MQTT"],
];

function layerOf(rel) {
  const parts = rel.split("/");
  return parts.length === 1 ? "(root)" : parts[0];
}

const rule = {
  meta: {
    type: "problem",
    docs: { description: "enforce subflash's layers, entry files and hardware/MQTT ownership" },
    schema: [],
    messages: {
      upward:
        "layer '{{from}}' may not import layer '{{to}}' ({{spec}}); allowed: {{allowed}} (ARCHITECTURE.md, layer rules)",
      entry:
        "reach layer '{{to}}' through its entry file {{entries}}, not {{spec}} (ARCHITECTURE.md, layer rules)",
      owned: "'{{spec}}' may be imported only under src/{{owner}}: {{why}} (ARCHITECTURE.md, layer rules)",
    },
  },
  create(context) {
    const filename = context.filename ?? context.getFilename();
    const srcRoot = path.join(context.cwd ?? process.cwd(), "src");
    const relFile = path.relative(srcRoot, filename);
    if (relFile.startsWith("..") || path.isAbsolute(relFile)) return {};
    const from = layerOf(relFile);

    function check(node, spec) {
      if (typeof spec !== "string") return;
      if (!spec.startsWith(".")) {
        for (const [matches, owner, why] of OWNED_PACKAGES) {
          if (matches(spec) && !relFile.startsWith(owner + "/")) {
            context.report({ node, messageId: "owned", data: { spec, owner, why } });
          }
        }
        return;
      }
      const target = path
        .relative(srcRoot, path.resolve(path.dirname(filename), spec))
        .replace(/\.js$/, ".ts");
      if (target.startsWith("..")) return;
      const to = layerOf(target);
      if (to === "util" || to === from) return;
      const allowed = LAYERS[from] ?? [];
      if (!allowed.includes(to)) {
        context.report({
          node,
          messageId: "upward",
          data: { from, to, spec, allowed: allowed.join(", ") || "none" },
        });
        return;
      }
      const entries = ENTRIES[to];
      if (entries && !entries.includes(target)) {
        context.report({
          node,
          messageId: "entry",
          data: { to, spec, entries: entries.map((e) => `src/${e}`).join(" or ") },
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node.source, node.source.value),
    };
  },
};

export default { rules: { layers: rule } };
