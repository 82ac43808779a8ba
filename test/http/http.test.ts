/**
 * The local HTTP endpoint against a real gateway (update engine, simulated modules, embedded broker):
 * its JSON and metrics, scraped by a real Prometheus, and its status page in a real headless Chromium
 * during a simulated update.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import { GatewayMetrics, startHttpServer, type GatewayHttpServer } from "../../src/http/index.js";
import { publishBundle } from "../../src/mqtt/operator/operator.js";
import { fleetBundle } from "../../src/sim/world/fleet.js";
import { createWorld, type World } from "../../src/sim/world/world.js";

const TOKEN = "t0ken-for-the-tests-0123456789";
let world: World | null = null;
let http: GatewayHttpServer | null = null;
let metrics: GatewayMetrics | null = null;
const stops: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await http?.close();
  http = null;
  metrics?.stop();
  metrics = null;
  await world?.close();
  world = null;
});

async function gateway(opts: { token?: string; timing?: boolean } = {}): Promise<{ w: World; url: string }> {
  world = await createWorld({ timing: opts.timing ?? false, baud: 230_400, factorySize: 4096 });
  metrics = new GatewayMetrics({ engine: world.engine, connection: world.service.connection });
  http = await startHttpServer({
    listen: "127.0.0.1:0",
    token: opts.token,
    engine: world.engine,
    metrics,
    mqttConnected: () => world!.service.connection.connected,
  });
  return { w: world, url: http.url };
}

function bundle(
  w: World,
  sequence: number,
  modules: Record<string, { version: string; behaviour?: "crash-on-boot" }>,
  imageSize = 4096,
): Uint8Array {
  return fleetBundle({ sequence, release: `r${sequence}`, gateways: [w.gateway], imageSize, modules }, w.key);
}

async function settled(w: World, summary: string): Promise<void> {
  await w.watcher.until((v) => v.gateway(w.gateway)?.status?.lastRun?.summary === summary, 90_000, summary);
}

describe("the HTTP endpoint", () => {
  it("serves the retained status JSON, health and Prometheus metrics, and counts an update and a refusal", async () => {
    const { w, url } = await gateway();
    const status = (await (await fetch(`${url}/api/status`)).json()) as {
      gateway: { gateway: string };
      modules: Record<string, { state: string }>;
    };
    expect(status.gateway.gateway).toBe(w.gateway);
    expect(Object.keys(status.modules).sort()).toEqual(["motor", "power", "radio"]);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true, mqtt: true });

    await publishBundle(
      w.operator,
      { gateway: w.gateway },
      bundle(w, 1, { motor: { version: "2.0.0" } }),
      w.prefix,
    );
    await settled(w, "bundle r1 committed");
    await publishBundle(
      w.operator,
      { gateway: w.gateway },
      bundle(w, 1, { motor: { version: "2.0.0" } }),
      w.prefix,
    );
    await w.watcher.until((v) => v.gateway(w.gateway)?.status?.lastRejected != null, 10_000, "the refusal");

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('subflash_module_state{module="motor",state="committed"} 1');
    expect(text).toMatch(
      /subflash_module_info\{module="motor",module_type="[^"]+",version="2\.0\.0",slot="b"\} 1/,
    );
    expect(text).toMatch(/subflash_updates_total\{module="motor",outcome="committed"\} 1/);
    expect(text).toMatch(/subflash_update_duration_seconds_count\{module="motor",outcome="committed"\} 1/);
    expect(text).toMatch(/subflash_phase_duration_seconds_count\{module="motor",phase="writing"\} [1-9]/);
    expect(text).toMatch(/subflash_flash_bytes_written_total\{module="motor"\} [1-9]/);
    expect(text).toMatch(/subflash_verifications_total\{module="motor",method="(crc|readback)"\} 1/);
    expect(text).toMatch(/subflash_bundle_refusals_total\{reason="replayed"\} 1/);
    expect(text).toContain("subflash_mqtt_connected 1");
    expect(text).toMatch(/subflash_last_successful_update_timestamp_seconds\{module="motor"\} \d/);
  }, 60_000);

  it("refuses requests without the bearer token, and anything but reading", async () => {
    const { url } = await gateway({ token: TOKEN });
    expect((await fetch(`${url}/api/status`)).status).toBe(401);
    expect(
      (await fetch(`${url}/metrics`, { headers: { authorization: "Bearer wrong-token-of-the-same-len" } }))
        .status,
    ).toBe(401);
    expect((await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${url}/healthz?access_token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${url}/api/status?access_token=${TOKEN}`, { method: "POST" })).status).toBe(405);
  }, 30_000);
});

const prometheusBin =
  process.env.SUBFLASH_TEST_PROMETHEUS_BIN ??
  (existsSync("/usr/bin/prometheus") ? "/usr/bin/prometheus" : null);
const prometheusSkip =
  prometheusBin || process.env.SUBFLASH_REQUIRE_PROMETHEUS === "1"
    ? null
    : "no prometheus binary (set SUBFLASH_TEST_PROMETHEUS_BIN)";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(prometheusSkip !== null)(
  `a real Prometheus${prometheusSkip ? ` (skipped: ${prometheusSkip})` : ""}`,
  () => {
    it("scrapes /metrics and answers a query on the installed version of a module", async () => {
      const { w, url } = await gateway();
      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, 1, { radio: { version: "2.0.0" } }),
        w.prefix,
      );
      await settled(w, "bundle r1 committed");

      const dir = mkdtempSync(join(tmpdir(), "subflash-prom-"));
      stops.push(() => rmSync(dir, { recursive: true, force: true }));
      const target = new URL(url).host;
      writeFileSync(
        join(dir, "prometheus.yml"),
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: subflash\n    scrape_interval: 1s\n    static_configs:\n      - targets: ["${target}"]\n`,
      );
      const port = await freePort();
      const proc: ChildProcess = spawn(
        prometheusBin!,
        [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: "ignore" },
      );
      stops.push(
        () =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null) return resolve();
            proc.once("exit", () => resolve());
            proc.kill("SIGTERM");
          }),
      );
      const query = encodeURIComponent('subflash_module_info{module="radio"}');
      const deadline = Date.now() + 60_000;
      let result: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
      while (Date.now() < deadline) {
        try {
          const answer = (await (
            await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`)
          ).json()) as {
            data?: { result?: typeof result };
          };
          result = answer.data?.result ?? [];
          if (result.length > 0) break;
        } catch {
          // Prometheus is still starting
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(result).toHaveLength(1);
      expect(result[0]!.metric).toMatchObject({
        job: "subflash",
        module: "radio",
        version: "2.0.0",
        slot: "b",
      });
      expect(result[0]!.value[1]).toBe("1");
    }, 120_000);
  },
);

const chromiumPath = process.env.SUBFLASH_TEST_CHROMIUM_BIN ?? "/usr/bin/chromium";
const chromiumSkip =
  existsSync(chromiumPath) || process.env.SUBFLASH_REQUIRE_CHROMIUM === "1" ? null : `no ${chromiumPath}`;

describe.skipIf(chromiumSkip !== null)(
  `the status page in headless Chromium${chromiumSkip ? ` (skipped: ${chromiumSkip})` : ""}`,
  () => {
    it("shows every module, the progress advancing during an update, and a failure's code", async () => {
      const { w, url } = await gateway({ token: TOKEN, timing: true });
      const browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      stops.push(() => browser.close());
      const page = await browser.newPage({ viewport: { width: 412, height: 900 } });
      await page.goto(`${url}/?access_token=${TOKEN}`);
      await page.waitForSelector("#live.live");
      for (const id of ["power", "motor", "radio"]) await page.waitForSelector(`[data-module="${id}"]`);

      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, 1, { motor: { version: "2.0.0" } }, 32 * 1024),
        w.prefix,
      );
      const bar = page.locator('[data-module="motor"] .bar');
      const percents: number[] = [];
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const percent = Number(await bar.getAttribute("data-percent"));
        if (percents.at(-1) !== percent) percents.push(percent);
        if ((await page.locator('[data-module="motor"] .state').textContent()) === "committed") break;
        if (
          process.env.SUBFLASH_WRITE_SCREENSHOT &&
          percent > 40 &&
          percent < 80 &&
          !existsSync("docs/status-page.png")
        )
          await page.screenshot({ path: "docs/status-page.png", fullPage: true });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const moving = percents.filter((p) => p > 0 && p < 100);
      expect(moving.length).toBeGreaterThan(1);
      for (let i = 1; i < moving.length; i++) expect(moving[i]!).toBeGreaterThanOrEqual(moving[i - 1]!);
      // Locators, not page functions: the page's CSP forbids eval, which string page functions need.
      await expect
        .poll(() => page.locator('[data-module="motor"] .version').textContent(), { timeout: 30_000 })
        .toBe("2.0.0");
      await settled(w, "bundle r1 committed");

      await publishBundle(
        w.operator,
        { gateway: w.gateway },
        bundle(w, 2, { radio: { version: "3.0.0", behaviour: "crash-on-boot" } }),
        w.prefix,
      );
      await expect
        .poll(() => page.locator('[data-module="radio"] .error').getAttribute("data-code"), {
          timeout: 90_000,
          interval: 250,
        })
        .toBe("health-check-failed");
      expect(await page.locator("#summary").textContent()).toMatch(/bundle r2 (running|rolling back|failed)/);
    }, 180_000);
  },
);
