import { defineConfig } from "vitest/config";

/** The module-firmware suites (firmware/): host C builds, ARM builds, QEMU. Run by `npm run test:firmware`. */
export default defineConfig({
  test: {
    include: ["test/firmware/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    // One heavy process at a time: make and QEMU share the machine.
    fileParallelism: false,
  },
});
