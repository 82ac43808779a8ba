import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites that use pseudo-terminals, child processes and brokers run in their own forks.
    pool: "forks",
  },
});
