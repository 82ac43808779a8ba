// Runs before `npm run demo` and `npm test`: on a fresh clone (no node_modules yet) it installs the
// locked dependencies, so the README's two quick-start commands work as they are.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const root = new URL("..", import.meta.url);
if (!existsSync(new URL("node_modules/.package-lock.json", root))) {
  process.stderr.write("subflash: first run, installing dependencies (npm ci)…\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
