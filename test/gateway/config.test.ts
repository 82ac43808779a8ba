import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { busOf, loadConfig, parseConfig } from "../../src/gateway/config/config.js";
import { ConfigError } from "../../src/gateway/errors.js";

const docExample = (): string => {
  const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  const block = /```yaml\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error("docs/configuration.md has no yaml example");
  return block[1]!;
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

const minimalModule = {
  id: "motor",
  type: "motor-board",
  device: "g071",
  transport: { usart: { path: "/dev/ttyS2" } },
  entry: { method: "app-command", send: "!boot\\n" },
  layout: {
    kind: "ab",
    slotA: { address: "0x08004000", size: "0xE000" },
    slotB: { address: "0x08012000", size: "0xE000" },
    bootRecord: { copies: ["0x08002000", "0x08002800"] },
  },
};

describe("gateway configuration", () => {
  it("accepts the documented example with every key", () => {
    const config = parseConfig(parseYaml(docExample()), { file: "docs/configuration.md", checkFiles: false });
    expect(config.gateway).toEqual({ id: "gw-0042", groups: ["eu-west", "rev-c"] });
    expect(config.mqtt).toMatchObject({
      prefix: "subflash",
      protocolVersion: 5,
      tls: { rejectUnauthorized: true },
    });
    expect(config.modules.map((m) => [m.id, m.layout.kind, m.entry.method])).toEqual([
      ["power", "single", "gpio"],
      ["motor", "ab", "app-command"],
      ["radio", "ab", "serial-lines"],
    ]);
    const motor = config.modules[1]!;
    expect(motor.layout).toMatchObject({ kind: "ab", slotA: { address: 0x08004000, size: 0xe000 } });
    expect(motor.health).toMatchObject({ kind: "uart-probe", send: "?\n", timeoutMs: 2000, attempts: 3 });
    expect(busOf(motor)).toBe("usart:/dev/ttyS2");
  });

  it("loads YAML and JSON files, resolving relative paths against the file's directory", () => {
    dir = mkdtempSync(join(tmpdir(), "subflash-config-"));
    writeFileSync(join(dir, "trust.json"), "{}");
    const raw = {
      gateway: { id: "gw-1" },
      trustStore: "trust.json",
      stateDir: "state",
      modules: [minimalModule],
    };
    writeFileSync(join(dir, "gw.json"), JSON.stringify(raw));
    const fromJson = loadConfig(join(dir, "gw.json"));
    expect(fromJson.trustStore).toBe(join(dir, "trust.json"));
    expect(fromJson.stateDir).toBe(join(dir, "state"));
    expect(fromJson.modules[0]!.layout).toMatchObject({ bootRecord: { copies: [0x08002000, 0x08002800] } });
    writeFileSync(
      join(dir, "gw.yaml"),
      docExample()
        .replace("/etc/subflash/trust.json", "trust.json")
        .replace(/\/etc\/subflash\/cdn-ca.pem/, "trust.json"),
    );
    expect(loadConfig(join(dir, "gw.yaml")).modules).toHaveLength(3);
  });

  it("reports every shape problem at once, each by path", () => {
    const problems = problemsOf(() =>
      parseConfig(
        {
          gateway: { id: "bad/id" },
          trustStore: "",
          stateDir: "state",
          mqtt: { url: "http://broker", prefix: "a/#" },
          modules: [
            { ...minimalModule, entry: { method: "jtag" } },
            { ...minimalModule, id: "x", transport: { usart: { path: "/dev/ttyS3", baud: 12 } }, typo: true },
          ],
        },
        { checkFiles: false },
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^gateway\.id: /),
        expect.stringMatching(/^trustStore: /),
        expect.stringMatching(/^mqtt\.url: /),
        expect.stringMatching(/^mqtt\.prefix: /),
        expect.stringMatching(/^modules\[0\]\.entry\.method: /),
        expect.stringMatching(/^modules\[1\]\.transport\.usart\.baud: /),
        expect.stringMatching(/^modules\[1\]: .*typo/),
      ]),
    );
  });

  it("reports layout problems against the device's erase units", () => {
    const problems = problemsOf(() =>
      parseConfig(
        {
          gateway: { id: "gw-1" },
          trustStore: "t",
          stateDir: "s",
          modules: [
            {
              ...minimalModule,
              layout: {
                kind: "ab",
                // Slot A starts mid-page; slot B runs past the end of the 128 KiB flash; both record copies share a page.
                slotA: { address: 0x08004400, size: 0xe000 },
                slotB: { address: 0x08012000, size: 0x10000 },
                bootRecord: { copies: [0x08002000, 0x08002040] },
              },
            },
            { ...minimalModule, id: "motor", device: "f999" },
          ],
        },
        { checkFiles: false },
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^modules\[0\]\.layout\.slotA\.address: 0x08004400 is not at the start of an erase unit/,
        ),
        expect.stringMatching(/^modules\[0\]\.layout\.slotB: .* is outside the flash of STM32G07x/),
        expect.stringMatching(
          /^modules\[0\]\.layout\.bootRecord\.copies\[1\]: shares an erase unit with bootRecord\.copies\[0\]/,
        ),
        expect.stringMatching(/^modules\[1\]\.id: "motor" is already used by modules\[0\]/),
        expect.stringMatching(/^modules\[1\]\.device: unknown device "f999"/),
      ]),
    );
  });

  it("refuses entry methods that cannot do what the layout and health check need", () => {
    const problems = problemsOf(() =>
      parseConfig(
        {
          gateway: { id: "gw-1" },
          trustStore: "t",
          stateDir: "s",
          modules: [
            { ...minimalModule, entry: { method: "none" }, exit: "reset" },
            {
              ...minimalModule,
              id: "m2",
              entry: { method: "serial-lines", enter: "rts=2" },
              health: { kind: "uart-probe", expect: "([" },
            },
          ],
        },
        { checkFiles: false },
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^modules\[0\]\.exit: "reset" needs an entry method that controls NRST/),
        expect.stringMatching(/^modules\[0\]\.entry\.method: an "ab" module must be re-entered/),
        expect.stringMatching(/^modules\[0\]\.health\.kind: "bootloader-only" re-enters the bootloader/),
        expect.stringMatching(/^modules\[1\]\.entry\.enter: line sequence "rts=2"/),
        expect.stringMatching(/^modules\[1\]\.health\.expect: not a valid regular expression/),
      ]),
    );
  });

  it("names the file and the problem when the file is missing or not YAML", () => {
    dir = mkdtempSync(join(tmpdir(), "subflash-config-"));
    expect(() => loadConfig(join(dir!, "missing.yaml"))).toThrow(/missing\.yaml: cannot read the file/);
    writeFileSync(join(dir, "bad.yaml"), "gateway: [unclosed");
    expect(() => loadConfig(join(dir!, "bad.yaml"))).toThrow(/bad\.yaml: not valid YAML/);
    writeFileSync(
      join(dir, "gw.yaml"),
      "gateway: { id: gw-1 }\ntrustStore: nowhere.json\nstateDir: s\nmodules: []\n",
    );
    const problems = problemsOf(() => loadConfig(join(dir!, "gw.yaml")));
    expect(problems).toEqual(["modules: at least one module"]);
  });
});
