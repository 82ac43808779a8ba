import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The firmware suites (C builds, QEMU) run on their own: npm run test:firmware.
    exclude: [...configDefaults.exclude, "test/firmware/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites that use pseudo-terminals, child processes and brokers run in their own forks.
    pool: "forks",
  },
});
