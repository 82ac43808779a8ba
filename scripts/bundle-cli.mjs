#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, from tsc) into dist/cli-bundle/ for the installed
// `subflash` (bin/subflash.mjs runs it when present).
//
// Why: a CLI start spent most of its time loading modules, not running them. Node's ESM loader
// resolves and reads each of our ~150 files one by one, and every CommonJS package imported from ESM
// (commander, serialport's stream and its `debug`) is also scanned by cjs-module-lexer for its named
// exports. Measured on this 2-core machine, `subflash info` to its first byte on the port: CPU time
// 0.62 s as tsc's files, 0.30 s bundled (`/usr/bin/time`, same minute, five runs each).
//
// Layout: one chunk per lazily loaded command (esbuild code splitting keeps the command table's
// dynamic imports lazy), all two levels below the package root like dist/cli/main.js, so the
// `../../package.json` lookups resolve the same. Packages stay external when bundling would change
// them: native addons found through their own paths (serialport's bindings, i2c-bus, cbor-x's
// optional extractor), pino (its transports start worker threads by file name), mqtt and aedes (only
// the MQTT commands load them; they carry optional native and browser paths) and prom-client.
// The library entry points (dist/index.js, dist/testing.js) are tsc's output, not this bundle.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/cli-bundle`;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["@serialport/bindings-cpp", "i2c-bus", "cbor-x", "pino", "mqtt", "aedes", "prom-client"],
  // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: "import { createRequire as __subflashRequire } from 'node:module'; const require = __subflashRequire(import.meta.url);",
  },
  legalComments: "linked",
  logLevel: "warning",
});
