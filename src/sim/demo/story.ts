/**
 * `subflash demo`: the whole update story on one machine, told through MQTT the way an operator
 * sees it. Every step asserts its outcome; the demo succeeds only if all of them behaved.
 *
 *   1. a signed release (4 modules, 3 families, 3 on serial lines and 1 on I2C) published to the
 *      gateway's group → all committed;
 *   2. a release of the three serial-line modules whose radio firmware crashes at boot → health check
 *      fails → the whole bundle is rolled back (all-or-nothing), in reverse order;
 *   3. the fixed release → all committed;
 *   4. the first release replayed from the broker → refused as a replay, no module touched;
 *   5. a signed remote rollback command → every module back on its previous firmware.
 */
import type { EventEnvelope, WireGatewayStatus, WireModuleStatus } from "../../mqtt/operator/index.js";
import { publishBundle, sendCommand } from "../../mqtt/operator/index.js";
import { renderStatusTable } from "../../mqtt/operator/index.js";
import type { Logger } from "../../util/logger.js";
import { DEMO_FLEET, DEMO_I2C_MODULE, DEMO_MODULES, fleetBundle, fleetCommand } from "../world/fleet.js";
import { LiveView } from "./live-view.js";
import { createWorld } from "../world/world.js";
import type { World } from "../world/world.js";

export interface DemoOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Simulated wire/flash time (default true). */
  timing?: boolean;
  /** Bootloader baud of the simulated lines (default 115200, the usual ROM bootloader maximum). */
  baud?: number;
  /** Image size per module in bytes (default 16 KiB). */
  imageSize?: number;
  /** Use this broker instead of an embedded one. */
  broker?: string;
  logger?: Logger;
  /** Per step, ms (default 120 s). */
  stepTimeoutMs?: number;
}

export interface StepResult {
  title: string;
  ok: boolean;
  seconds: number;
  checks: Array<{ what: string; ok: boolean; detail?: string }>;
}

export interface DemoResult {
  ok: boolean;
  steps: StepResult[];
  seconds: number;
}

const GROUP = "demo";
const STEPS = 5;

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const out = opts.out;
  const say = (text = ""): void => void out.write(`${text}\n`);
  const started = Date.now();
  const imageSize = opts.imageSize ?? 16 * 1024;
  const baud = opts.baud ?? 115_200;
  say(
    "subflash demo — signed, all-or-nothing updates of STM32 modules through their ROM bootloaders, over MQTT",
  );
  const world = await createWorld({
    modules: DEMO_FLEET,
    timing: opts.timing ?? true,
    baud,
    groups: [GROUP],
    ...(opts.broker !== undefined ? { broker: opts.broker } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const steps: StepResult[] = [];
  try {
    describeWorld(world, say, { baud, imageSize, timing: opts.timing ?? true });
    const events: EventEnvelope[] = [];
    world.watcher.on("event", (e) => events.push(e));
    const story = new Story(world, out, say, opts.stepTimeoutMs ?? 120_000, steps);
    // Release 1: all four at once (each module has its own serial line or bus, so they are updated in parallel).
    const all = {
      power: { version: "2.0.0" },
      motor: { version: "2.0.0" },
      radio: { version: "2.0.0" },
      sensor: { version: "2.0.0" },
    };
    const release1 = fleetBundle(
      { sequence: 1, release: "demo-2.0.0", groups: [GROUP], modules: all, imageSize },
      world.key,
      DEMO_FLEET,
    );

    await story.step(
      'Publish release demo-2.0.0 to group "demo" (one signed bundle, four images, in parallel)',
      async (check, note) => {
        const topic = await publishBundle(world.operator, { group: GROUP }, release1, world.prefix);
        note(`published ${release1.length} bytes to ${topic}`);
        await story.bundleFinished(1);
        const bundle = story.gatewayStatus()?.bundle;
        check(bundle?.state === "committed", "the bundle is committed", bundle?.state);
        for (const m of DEMO_FLEET) {
          const s = story.module(m.id);
          check(
            s?.state === "committed" && s.version === "2.0.0",
            `${m.id} committed 2.0.0`,
            `${s?.state} ${s?.version}`,
          );
          check(
            world.modules.running(m.id) === "2.0.0",
            `${m.id} runs 2.0.0`,
            String(world.modules.running(m.id)),
          );
        }
        check(
          ["motor", "radio", "sensor"].every((id) => story.module(id)?.activeSlot === "b"),
          "A/B modules switched to slot B",
        );
        const methods = DEMO_FLEET.map((m) => `${m.id}: ${story.module(m.id)?.verification ?? "none"}`).join(
          ", ",
        );
        check(
          DEMO_FLEET.every((m) => (story.module(m.id)?.verification ?? "none") !== "none"),
          `every image was verified on the device (${methods})`,
          methods,
        );
        const byCrc = DEMO_FLEET.filter((m) => m.bootloaderVersion === 0x33).map((m) => m.id);
        check(
          byCrc.length > 0 && byCrc.every((id) => story.module(id)?.verification === "crc"),
          `${byCrc.join(", ")} verified by its bootloader's Get Checksum (crc), no read-back`,
          byCrc.map((id) => `${id}: ${story.module(id)?.verification ?? "none"}`).join(", "),
        );
      },
    );

    // Release 2: in order power → motor → radio, so two modules are committed when the radio fails.
    const bad = {
      power: { version: "3.0.0", order: 0 },
      motor: { version: "3.0.0", order: 1 },
      radio: { version: "3.0.0", order: 2, behaviour: "crash-on-boot" as const },
    };
    await story.step(
      "Publish release demo-3.0.0 (power → motor → radio), whose radio firmware crashes at boot",
      async (check) => {
        events.length = 0;
        await publishBundle(
          world.operator,
          { gateway: world.gateway },
          fleetBundle(
            { sequence: 2, release: "demo-3.0.0", gateways: [world.gateway], modules: bad, imageSize },
            world.key,
          ),
          world.prefix,
        );
        await story.bundleFinished(2);
        const bundle = story.gatewayStatus()?.bundle;
        check(bundle?.state === "failed", "the bundle is reported failed", bundle?.state);
        check(
          bundle?.error?.code === "health-check-failed",
          "with the first cause: health-check-failed",
          bundle?.error?.code,
        );
        check(
          story.module("radio")?.lastError?.code === "health-check-failed",
          "radio reports health-check-failed",
          story.module("radio")?.lastError?.code,
        );
        for (const m of DEMO_MODULES) {
          const s = story.module(m.id);
          check(
            s?.state === "rolled-back" && s.version === "2.0.0",
            `${m.id} rolled back to 2.0.0`,
            `${s?.state} ${s?.version}`,
          );
          check(
            world.modules.running(m.id) === "2.0.0",
            `${m.id} runs 2.0.0 again`,
            String(world.modules.running(m.id)),
          );
        }
        const order = unique(
          events
            .filter((e) => e.type === "transition" && e.to === "rolling-back")
            .map((e) => String(e.module)),
        );
        check(
          order.join(",") === "radio,motor,power",
          "rolled back in reverse order: radio, motor, power",
          order.join(","),
        );
        const sensor = story.module(DEMO_I2C_MODULE.id);
        check(
          sensor?.state === "committed" && world.modules.running(DEMO_I2C_MODULE.id) === "2.0.0",
          `${DEMO_I2C_MODULE.id} (not in this release) untouched, runs 2.0.0`,
          `${sensor?.state} ${String(world.modules.running(DEMO_I2C_MODULE.id))}`,
        );
      },
    );

    // Release 3: the fix, all at once again.
    const fixed = {
      power: { version: "3.0.1" },
      motor: { version: "3.0.1" },
      radio: { version: "3.0.1" },
      sensor: { version: "3.0.1" },
    };
    await story.step("Publish release demo-3.0.1, the fix", async (check) => {
      await publishBundle(
        world.operator,
        { group: GROUP },
        fleetBundle(
          { sequence: 3, release: "demo-3.0.1", groups: [GROUP], modules: fixed, imageSize },
          world.key,
          DEMO_FLEET,
        ),
        world.prefix,
      );
      await story.bundleFinished(3);
      check(
        story.gatewayStatus()?.bundle?.state === "committed",
        "the bundle is committed",
        story.gatewayStatus()?.bundle?.state,
      );
      for (const m of DEMO_FLEET) {
        const s = story.module(m.id);
        check(
          s?.state === "committed" && s.version === "3.0.1",
          `${m.id} committed 3.0.1`,
          `${s?.state} ${s?.version}`,
        );
        check(
          world.modules.running(m.id) === "3.0.1",
          `${m.id} runs 3.0.1`,
          String(world.modules.running(m.id)),
        );
      }
    });

    await story.step("Replay release demo-2.0.0 (a copy captured from the broker)", async (check) => {
      const before = snapshot(story);
      const publishedAt = new Date().toISOString();
      await publishBundle(world.operator, { gateway: world.gateway }, release1, world.prefix);
      await world.watcher.until(
        () => (story.gatewayStatus()?.lastRejected?.at ?? "") >= publishedAt,
        10_000,
        "the gateway to refuse the replay",
      );
      const rejected = story.gatewayStatus()?.lastRejected;
      check(rejected?.error.code === "replayed", "refused as replayed", rejected?.error.code);
      check(snapshot(story) === before, "no module was touched");
    });

    await story.step("Remote rollback: a signed rollback command over MQTT", async (check, note) => {
      const command = fleetCommand(world.key, {
        kind: "rollback",
        gateway: world.gateway,
        sequence: Date.now(),
      });
      const response = await sendCommand(world.operator, {
        gateway: world.gateway,
        command,
        prefix: world.prefix,
        timeoutMs: 10_000,
      });
      note(
        `response: ${response.status} (${response.command ?? "?"}: ${(response.modules ?? []).join(", ")}), correlation id ${response.correlationId}`,
      );
      check(response.status === "ok", "the gateway accepted the command", response.error?.code);
      if (response.status !== "ok") return;
      const settled = (s: WireModuleStatus | undefined): boolean =>
        s?.state === "rolled-back" || s?.state === "failed";
      await world.watcher.until(
        () => DEMO_FLEET.every((m) => settled(story.module(m.id))),
        story.timeoutMs,
        "every module to roll back",
      );
      for (const m of DEMO_FLEET) {
        const s = story.module(m.id);
        check(
          s?.state === "rolled-back" && s.version === "2.0.0",
          `${m.id} rolled back to its previous firmware 2.0.0`,
          `${s?.state} ${s?.version}`,
        );
        check(
          world.modules.running(m.id) === "2.0.0",
          `${m.id} runs 2.0.0`,
          String(world.modules.running(m.id)),
        );
      }
    });

    say("");
    say("Final status, as `subflash status` shows it:");
    say(renderStatusTable(world.watcher.view.gateways()).trimEnd().replace(/^/gm, "  "));
  } finally {
    await world.close();
  }
  const result = {
    ok: steps.length === STEPS && steps.every((s) => s.ok),
    steps,
    seconds: (Date.now() - started) / 1000,
  };
  summary(result, say);
  return result;
}

class Story {
  constructor(
    readonly world: World,
    readonly out: DemoOptions["out"],
    readonly say: (text?: string) => void,
    readonly timeoutMs: number,
    readonly steps: StepResult[],
  ) {}

  module(id: string): WireModuleStatus | undefined {
    return this.world.watcher.view.gateway(this.world.gateway)?.modules.get(id);
  }

  gatewayStatus(): WireGatewayStatus | null {
    return this.world.watcher.view.gateway(this.world.gateway)?.status ?? null;
  }

  async bundleFinished(sequence: number): Promise<void> {
    await this.world.watcher.until(
      () => {
        const bundle = this.gatewayStatus()?.bundle;
        return (
          !!bundle &&
          bundle.sequence === sequence &&
          bundle.state !== "running" &&
          bundle.state !== "verifying"
        );
      },
      this.timeoutMs,
      `bundle #${sequence} to finish`,
    );
  }

  /**
   * Runs one step with the live view on. The body records checks, and notes that are printed after
   * the live view stops (so nothing is written into its redrawn lines).
   */
  async step(
    title: string,
    body: (
      check: (ok: boolean, what: string, detail?: string) => void,
      note: (text: string) => void,
    ) => Promise<void>,
  ): Promise<void> {
    const number = this.steps.length + 1;
    this.say("");
    this.say(`[${number}/${STEPS}] ${title}`);
    const started = Date.now();
    const result: StepResult = { title, ok: true, seconds: 0, checks: [] };
    this.steps.push(result);
    const live = new LiveView({ watcher: this.world.watcher, gateway: this.world.gateway, out: this.out });
    const notes: string[] = [];
    live.start();
    try {
      await body(
        (ok, what, detail) =>
          result.checks.push({ what, ok, ...(ok || detail === undefined ? {} : { detail }) }),
        (text) => notes.push(text),
      );
    } catch (error) {
      result.checks.push({
        what: "the step ran to its end",
        ok: false,
        detail: error instanceof Error ? error.message : String(error),
      });
    } finally {
      live.stop();
    }
    for (const text of notes) this.say(`    ${text}`);
    result.seconds = (Date.now() - started) / 1000;
    result.ok = result.checks.length > 0 && result.checks.every((c) => c.ok);
    for (const c of result.checks)
      this.say(`    ${c.ok ? "✓" : "✗"} ${c.what}${c.ok ? "" : `  (got: ${c.detail ?? "?"})`}`);
    this.say(`    ${result.ok ? "step passed" : "STEP FAILED"} in ${result.seconds.toFixed(1)} s`);
  }
}

function describeWorld(
  world: World,
  say: (text?: string) => void,
  o: { baud: number; imageSize: number; timing: boolean },
): void {
  const broker = world.broker
    ? `embedded aedes broker at ${world.brokerUrl} (MQTT 3.1.1; the gateway fell back from 5)`
    : world.brokerUrl;
  say(`  broker    ${broker}`);
  say(`  gateway   ${world.gateway} in group "${GROUP}", state in ${world.dir}`);
  for (const m of DEMO_FLEET) {
    const layout = m.layout.kind === "ab" ? "A/B slots" : "single slot";
    const entry = String(m.entry.method);
    const line = m.i2c ? `I2C bus ${m.i2c.bus} @0x${m.i2c.address.toString(16)}` : "serial line";
    say(
      `  module    ${m.id.padEnd(6)} ${m.device.toUpperCase().padEnd(5)} ${m.family.padEnd(8)} ${layout.padEnd(12)} ${line.padEnd(18)} bootloader entry: ${entry}`,
    );
  }
  say(`  key       release key ${world.key.id} (trust store: 1 key, threshold 1)`);
  say(
    `  timing    ${o.timing ? `simulated wire and flash time, ${o.baud} baud (8E1, 11 bits a byte), I2C at 400 kHz (9 bits a byte), ${o.imageSize / 1024} KiB images` : "off (instant)"}`,
  );
}

function snapshot(story: Story): string {
  return DEMO_FLEET.map((m) => {
    const s = story.module(m.id);
    return `${m.id}:${s?.state}:${s?.version}:${s?.activeSlot}:${story.world.modules.running(m.id)}`;
  }).join(" ");
}

function unique(values: string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function summary(result: DemoResult, say: (text?: string) => void): void {
  say("");
  say("Summary");
  const width = Math.max(...result.steps.map((s) => s.title.length));
  result.steps.forEach((s, i) => {
    const passed = s.checks.filter((c) => c.ok).length;
    say(
      `  ${s.ok ? "✓" : "✗"} ${i + 1}. ${s.title.padEnd(width)} ${String(passed).padStart(2)}/${s.checks.length} checks  ${s.seconds.toFixed(1).padStart(5)} s`,
    );
  });
  say(`  ${result.ok ? "demo passed" : "DEMO FAILED"} in ${result.seconds.toFixed(1)} s`);
}
