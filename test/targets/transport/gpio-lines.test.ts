/**
 * The gpio entry method drives libgpiod's gpioset. A stand-in script with gpioset's command line
 * records what it is asked (arguments, interactive commands, when it is stopped), for both libgpiod
 * major versions.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GpiosetLines } from "../../../src/targets/transport/gpio-lines.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "subflash-gpio-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fakeGpioset(version: string): string {
  const path = join(dir, "gpioset");
  const log = join(dir, "log");
  writeFileSync(
    path,
    `#!/bin/sh
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${version}"; exit 0; fi
echo "start $*" >> ${log}
# Both versions hold the lines until stdin closes (v1 --mode=wait also stops at a newline).
while IFS= read -r line; do echo "stdin $line" >> ${log}; done
echo "stop" >> ${log}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const entry = (gpioset: string) =>
  ({
    method: "gpio",
    chip: "gpiochip0",
    boot0: 17,
    nrst: 27,
    nrstActiveLow: true,
    boot0ActiveLow: false,
    resetPulseMs: 1,
    settleMs: 1,
    gpioset,
  }) as const;

const logOf = (): string[] => readFileSync(join(dir, "log"), "utf8").trim().split("\n");
const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe("GPIO entry lines through gpioset", () => {
  it("holds the lines with one interactive gpioset (libgpiod v2) and changes them on its stdin", async () => {
    const lines = new GpiosetLines(entry(fakeGpioset("v2.1.1")));
    await lines.set({ boot0: true, reset: true });
    await lines.set({ reset: false });
    await lines.close();
    await until(() => logOf().includes("stop"));
    // NRST is active low: reset held = line 27 at 0; BOOT0 high = line 17 at 1.
    expect(logOf()).toEqual(["start --interactive -c gpiochip0 17=1 27=0", "stdin set 17=1 27=1", "stop"]);
  });

  it("restarts a wait-mode gpioset (libgpiod v1) for each change", async () => {
    const lines = new GpiosetLines(entry(fakeGpioset("v1.6.3")));
    await lines.set({ boot0: true, reset: true });
    await lines.set({ boot0: false });
    await lines.close();
    await until(() => logOf().filter((l) => l === "stop").length === 2);
    expect(logOf()).toEqual([
      "start --mode=wait gpiochip0 17=1 27=0",
      "stop",
      "start --mode=wait gpiochip0 17=0 27=0",
      "stop",
    ]);
  });

  it("names the chip and the tool when gpioset cannot run", async () => {
    const lines = new GpiosetLines(entry(join(dir, "no-such-gpioset")));
    await expect(lines.set({ boot0: true })).rejects.toMatchObject({
      domain: "transport",
      code: "gpio-failed",
      message: expect.stringMatching(/no-such-gpioset.*gpiochip0/),
    });
  });
});
