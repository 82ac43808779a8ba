#!/usr/bin/env node
// Entry point. An installed package runs the compiled dist/ and needs nothing else. In a checkout
// (src/ present) the TypeScript sources run through tsx when it is installed (a devDependency), so
// there is no build step to forget and no stale dist/ to run by mistake; SUBFLASH_DIST=1 runs dist/
// in a checkout too (after `npm run build`), e.g. to time the start-up of the installed form.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

// Node ≥ 22.1 keeps compiled code in a cache directory: later starts skip most compilation.
module.enableCompileCache?.();

const source = new URL("../src/cli/main.ts", import.meta.url);
// The bundled CLI (scripts/bundle-cli.mjs: far fewer files to load at start), else tsc's output.
const bundled = new URL("../dist/cli-bundle/main.js", import.meta.url);
const compiled = new URL("../dist/cli/main.js", import.meta.url);
const built = existsSync(fileURLToPath(bundled)) ? bundled : compiled;

if (process.env.SUBFLASH_DIST !== "1" && existsSync(fileURLToPath(source)) && (await hasTsx())) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write(
    "subflash: no dist/ build and no tsx to run the sources: run `npm ci` (checkout) or `npm run build`\n",
  );
  process.exit(1);
}

async function hasTsx() {
  try {
    import.meta.resolve("tsx/esm/api");
    return true;
  } catch {
    return false;
  }
}
