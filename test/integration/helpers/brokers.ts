/**
 * Brokers for the MQTT tests: a real Mosquitto (CI's, from SUBFLASH_TEST_MQTT_URL, or one started
 * here from SUBFLASH_TEST_MOSQUITTO_BIN or `mosquitto` on PATH, on a free loopback port) and the
 * embedded aedes broker. With SUBFLASH_REQUIRE_MOSQUITTO=1 a missing Mosquitto is a failure.
 *
 * Tests on a shared broker must not see each other's retained messages: use {@link uniquePrefix}.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, connect } from "node:net";
import type { AddressInfo } from "node:net";
import { startEmbeddedBroker } from "../../../src/mqtt/broker/broker.js";
import type { EmbeddedBroker } from "../../../src/mqtt/broker/broker.js";

export interface TestBroker {
  readonly kind: "mosquitto" | "aedes";
  readonly url: string;
  /** Whether this test process controls the broker (can stop and restart it). */
  readonly controllable: boolean;
  /** Stops the broker (controllable ones only); retained messages are lost (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Frees everything. */
  close(): Promise<void>;
}

export function uniquePrefix(name: string): string {
  return `subflash-test/${name}-${randomUUID().slice(0, 8)}`;
}

/** The Mosquitto binary to start, or null. */
export function mosquittoBinary(): string | null {
  const fromEnv = process.env.SUBFLASH_TEST_MOSQUITTO_BIN;
  if (fromEnv) return fromEnv;
  for (const candidate of ["mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]) {
    const probe = spawnSync(candidate, ["-h"], { stdio: "ignore" });
    if (!probe.error) return candidate;
  }
  return null;
}

/** Why Mosquitto tests cannot run here, or null when they can. */
export function mosquittoUnavailable(): string | null {
  if (process.env.SUBFLASH_TEST_MQTT_URL || mosquittoBinary()) return null;
  return "no Mosquitto: set SUBFLASH_TEST_MQTT_URL, SUBFLASH_TEST_MOSQUITTO_BIN, or put mosquitto on PATH";
}

/** True when a missing Mosquitto must fail the suite rather than skip it. */
export const mosquittoRequired = process.env.SUBFLASH_REQUIRE_MOSQUITTO === "1";

/**
 * A Mosquitto broker. `controllable` asks for one started here (needed to stop/restart it) even when
 * CI provides a URL; without a binary that throws.
 */
export async function startMosquitto(opts: { controllable?: boolean } = {}): Promise<TestBroker> {
  const external = process.env.SUBFLASH_TEST_MQTT_URL;
  const binary = mosquittoBinary();
  if (external && !(opts.controllable && binary)) {
    if (opts.controllable)
      throw new Error("a controllable Mosquitto is needed but only SUBFLASH_TEST_MQTT_URL is set");
    const nothing = async (): Promise<void> => {};
    return {
      kind: "mosquitto",
      url: external,
      controllable: false,
      stop: nothing,
      restart: nothing,
      close: nothing,
    };
  }
  if (!binary) throw new Error(mosquittoUnavailable() ?? "no Mosquitto");
  const port = await freePort();
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const proc = spawn(binary, ["-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let failure: string | null = null;
    proc.once("error", (error) => (failure = `cannot start ${binary}: ${error.message}`));
    proc.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child = proc;
    await waitForPort(
      port,
      5000,
      () => failure ?? (proc.exitCode !== null ? `mosquitto exited: ${stderr}` : null),
    );
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    await exited;
  };
  await launch();
  return {
    kind: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    controllable: true,
    stop,
    restart: launch,
    close: stop,
  };
}

export async function startAedes(): Promise<TestBroker> {
  let broker: EmbeddedBroker | null = await startEmbeddedBroker();
  const port = broker.port;
  const stop = async (): Promise<void> => {
    const b = broker;
    broker = null;
    await b?.close();
  };
  return {
    kind: "aedes",
    url: broker.url,
    controllable: true,
    stop,
    restart: async () => {
      broker = await startEmbeddedBroker({ port });
    },
    close: stop,
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(problem);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One broker a suite runs against: how to start it, and why it is skipped here (null: it runs). */
export interface BrokerSuite {
  readonly kind: "mosquitto" | "aedes";
  start(): Promise<TestBroker>;
  readonly skip: string | null;
  /** "on mosquitto", or "on mosquitto (skipped: …)", for describe titles. */
  readonly title: string;
}

/**
 * The brokers a suite that must hold on both runs against: a real Mosquitto (one this process can
 * stop and restart when a binary is there; skipped with its reason when none is available, unless
 * SUBFLASH_REQUIRE_MOSQUITTO=1) and the embedded aedes broker (MQTT 3.1.1 only).
 */
export function brokerSuites(): BrokerSuite[] {
  const unavailable = mosquittoUnavailable();
  const skip = unavailable && !mosquittoRequired ? unavailable : null;
  return [
    {
      kind: "mosquitto",
      start: () => startMosquitto({ controllable: mosquittoBinary() !== null }),
      skip,
      title: `on mosquitto${skip ? ` (skipped: ${skip})` : ""}`,
    },
    { kind: "aedes", start: () => startAedes(), skip: null, title: "on aedes" },
  ];
}

/** The one broker a suite that needs any broker runs against: Mosquitto where it can, else aedes. */
export function preferredBroker(): {
  kind: "mosquitto" | "aedes";
  label: string;
  start(): Promise<TestBroker>;
} {
  const useMosquitto = mosquittoUnavailable() === null || mosquittoRequired;
  return useMosquitto
    ? { kind: "mosquitto", label: "Mosquitto", start: () => startMosquitto() }
    : { kind: "aedes", label: "embedded aedes broker", start: () => startAedes() };
}
