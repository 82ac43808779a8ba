/**
 * One long-lived MQTT connection, as the gateway needs it:
 * - MQTT 5 first; when the broker refuses the protocol version (CONNACK 0x01 on 3.1.1, reason 0x84
 *   on 5) or drops the socket before any CONNACK, the next attempt uses 3.1.1 and stays on it;
 * - reconnects with exponential backoff and jitter, forever (mqtt.js' own fixed-period reconnect is
 *   off: every attempt is a fresh client, so the protocol version can change between attempts);
 * - a last will, set by the caller (the gateway's `online` = "false");
 * - retained state is kept as "latest value per topic" and re-published on every (re)connect, so a
 *   broker that lost its retained store (Mosquitto without persistence) or came back after a long
 *   outage shows current state at once, and progress ticks made while offline are not replayed;
 * - transient messages (events) are dropped while offline, except the few marked `queue` (command
 *   responses), which are kept in a small bounded queue;
 * - subscriptions are remembered and made again on every connection; on MQTT 5 they can ask for
 *   No Local, so the broker does not echo our own publishes back.
 */
import type { IConnackPacket, IPublishPacket, MqttClient } from "mqtt";
import { TypedEmitter } from "../../util/events.js";
import { describeError } from "../../util/errors.js";
import { silentLogger } from "../../util/logger.js";
import type { Logger } from "../../util/logger.js";
import { Backoff } from "./backoff.js";
import type { BackoffOptions } from "./backoff.js";
import { connectAttempt, toBuffer } from "./connect-attempt.js";
import type { ConnectFailure, MqttTlsOptions, ProtocolVersion } from "./connect-attempt.js";
import { MqttError } from "../errors.js";

export type { ProtocolVersion, MqttTlsOptions } from "./connect-attempt.js";

export interface MqttConnectionOptions {
  /** mqtt://, mqtts://, ws://, wss:// URL of the broker. */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  /** Highest protocol version to try. 5 (default) falls back to 4 when the broker refuses it. */
  protocolVersion?: ProtocolVersion;
  /** Last will, published by the broker when we vanish without a DISCONNECT. */
  will?: { topic: string; payload: string | Uint8Array; retain: boolean };
  /**
   * Keep the broker-side session between connections (clean: false), so QoS 1 messages sent while
   * we were away are delivered on reconnect. Session expiry (MQTT 5) in seconds; default 1 day.
   */
  persistentSession?: boolean;
  sessionExpirySeconds?: number;
  keepaliveSeconds?: number;
  /** Time allowed for TCP/TLS + CONNACK, in milliseconds. Default 10000. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** When false, a failed first connection is reported to waiters instead of retried (operator tools). */
  retryInitialConnect?: boolean;
  /**
   * Topics whose QoS 1 messages are acknowledged (PUBACK) only when the receiver calls the message's
   * `ack()`: the gateway acks a bundle once it is journalled, so a crash before that makes the broker
   * redeliver it to the persistent session (MQTT 3.1.1 §4.4, MQTT 5 §4.4). Others are acked on receipt.
   */
  holdAck?: (topic: string) => boolean;
  /**
   * MQTT 5 Maximum Packet Size sent in CONNECT (MQTT 5 §3.1.2.11.4): the broker must not send us
   * a larger packet, so an oversize bundle never reaches this process's memory. Ignored on 3.1.1.
   */
  maximumPacketSize?: number;
  /** Most transient messages kept while offline (those published with `queue: true`). Default 100. */
  maxQueued?: number;
  logger?: Logger;
}

export interface InboundMessage {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  /** MQTT 5 request/response properties, null on 3.1.1 or when absent. */
  correlationData: Uint8Array | null;
  responseTopic: string | null;
  /**
   * Sends the PUBACK of a held message (see `holdAck`); a no-op for messages acked on receipt, for a
   * second call, and after the connection it came on was lost (the broker redelivers it then).
   */
  ack(): void;
}

export interface ConnectionEvents {
  connected: [{ protocolVersion: ProtocolVersion; sessionPresent: boolean }];
  disconnected: [{ reason: string }];
  message: [InboundMessage];
}

export interface SubscriptionSpec {
  filter: string;
  qos?: 0 | 1;
  /** MQTT 5 No Local: the broker does not send our own publishes back (ignored on 3.1.1). */
  noLocal?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  /** MQTT 5 properties (dropped on 3.1.1, where the topic carries the correlation instead). */
  correlationData?: Uint8Array;
  responseTopic?: string;
  /** Keep it (bounded) while offline and send on reconnect; default: drop while offline. */
  queue?: boolean;
}

export class MqttConnection extends TypedEmitter<ConnectionEvents> {
  readonly #opts: MqttConnectionOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #retained = new Map<string, string | Uint8Array>();
  readonly #subscriptions = new Map<string, SubscriptionSpec>();
  readonly #queue: Array<{ topic: string; payload: string | Uint8Array; opts: PublishOptions }> = [];
  #version: ProtocolVersion;
  #client: MqttClient | null = null;
  #connected = false;
  #everConnected = false;
  #started = false;
  #stopping = false;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #lastFailure: string | null = null;
  #dropped = 0;
  /** Packets whose PUBACK waits for `ack()` (see #holdAcks). */
  readonly #held = new WeakSet<object>();
  #waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(opts: MqttConnectionOptions) {
    super();
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ component: "mqtt", broker: redactUrl(opts.url) });
    this.#backoff = new Backoff(opts.backoff);
    this.#version = opts.protocolVersion ?? 5;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Protocol version of the live connection, or the one the next attempt uses. */
  get protocolVersion(): ProtocolVersion {
    return this.#version;
  }

  /** Why the last attempt failed, for messages; null after a success. */
  get lastFailure(): string | null {
    return this.#lastFailure;
  }

  /** Starts connecting in the background; `connected` / `disconnected` events follow. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#attempt();
  }

  /** Resolves once connected; rejects after `timeoutMs`, or at the first failure if initial retries are off. */
  waitConnected(timeoutMs = 15_000): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.start();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new MqttError("timeout", `no connection to ${redactUrl(this.#opts.url)} within ${timeoutMs} ms`, {
            broker: redactUrl(this.#opts.url),
            lastFailure: this.#lastFailure,
          }),
        );
      }, timeoutMs);
      const waiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error: Error) => (clearTimeout(timer), reject(error)),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Remembers subscriptions (made again on every connection) and subscribes now when connected. */
  async subscribe(specs: readonly SubscriptionSpec[]): Promise<void> {
    for (const spec of specs) this.#subscriptions.set(spec.filter, spec);
    const client = this.#client;
    if (client && this.#connected) await this.#subscribeOn(client, specs);
  }

  /** Forgets subscriptions and unsubscribes now when connected. */
  async unsubscribe(filters: readonly string[]): Promise<void> {
    for (const filter of filters) this.#subscriptions.delete(filter);
    const client = this.#client;
    if (client && this.#connected && filters.length > 0) await client.unsubscribeAsync([...filters]);
  }

  /**
   * Sets the latest retained value of a topic. Published now when connected; otherwise the newest
   * value per topic is published on reconnect (older values are never sent).
   */
  setRetained(topic: string, payload: string | Uint8Array): void {
    this.#retained.set(topic, payload);
    const client = this.#client;
    if (client && this.#connected) this.#send(client, topic, payload, { qos: 1, retain: true });
  }

  /** Publishes a non-retained message; returns false when it was dropped or queued because we are offline. */
  publish(topic: string, payload: string | Uint8Array, opts: PublishOptions = {}): boolean {
    const client = this.#client;
    if (client && this.#connected) {
      this.#send(client, topic, payload, opts);
      return true;
    }
    if (opts.queue) {
      this.#queue.push({ topic, payload, opts });
      const max = this.#opts.maxQueued ?? 100;
      while (this.#queue.length > max) {
        this.#queue.shift();
        this.#dropped += 1;
      }
    } else {
      this.#dropped += 1;
    }
    return false;
  }

  /** Publishes and waits for the broker's PUBACK (QoS 1); for operator tools. */
  async publishAndWait(
    topic: string,
    payload: string | Uint8Array,
    opts: PublishOptions = {},
  ): Promise<void> {
    const client = this.#client;
    if (!client || !this.#connected) {
      throw new MqttError(
        "not-connected",
        `cannot publish to ${topic}: not connected to ${redactUrl(this.#opts.url)}`,
        {
          topic,
        },
      );
    }
    await client.publishAsync(topic, toBuffer(payload), this.#packetOptions({ qos: 1, ...opts }));
  }

  /**
   * Stops: publishes `finalRetained` (e.g. online = "false") when connected, then disconnects
   * cleanly (a clean DISCONNECT suppresses the last will, hence the explicit final publish).
   */
  async stop(
    finalRetained: ReadonlyArray<[string, string | Uint8Array]> = [],
    timeoutMs = 3000,
  ): Promise<void> {
    this.#stopping = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    for (const waiter of this.#waiters.splice(0))
      waiter.reject(new MqttError("not-connected", "connection stopped"));
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    if (this.#connected) {
      const finals = finalRetained.map(([topic, payload]) =>
        client.publishAsync(topic, toBuffer(payload), this.#packetOptions({ qos: 1, retain: true })),
      );
      await withTimeout(Promise.allSettled(finals), timeoutMs);
      await withTimeout(client.endAsync(), timeoutMs).catch(() => client.end(true));
    } else {
      client.end(true);
    }
    this.#connected = false;
  }

  #attempt(): void {
    if (this.#stopping) return;
    const version = this.#version;
    this.#log.debug({ protocolVersion: version, attempt: this.#backoff.attempt }, "connecting");
    connectAttempt(this.#opts, version, this.#log, (client) => {
      this.#holdAcks(client);
      client.on("message", (topic, payload, packet) => this.#onMessage(client, topic, payload, packet));
    }).then(
      ({ client, connack }) => this.#onConnected(client, connack, version),
      (failure: ConnectFailure) => this.#onAttemptFailed(failure, version),
    );
  }

  #onAttemptFailed(failure: ConnectFailure, version: ProtocolVersion): void {
    if (this.#stopping) return;
    this.#lastFailure = failure.message;
    if (version === 5 && (failure.kind === "protocol" || failure.kind === "closed")) {
      this.#log.warn({ reason: failure.message }, "broker refused MQTT 5; falling back to MQTT 3.1.1");
      this.#version = 4;
      this.#attempt();
      return;
    }
    if (!this.#everConnected && this.#opts.retryInitialConnect === false) {
      const code =
        failure.kind === "refused"
          ? "connection-refused"
          : failure.kind === "timeout"
            ? "timeout"
            : "connect-failed";
      const error = new MqttError(
        code,
        `cannot connect to ${redactUrl(this.#opts.url)}: ${failure.message}`,
        {
          broker: redactUrl(this.#opts.url),
        },
      );
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      this.#stopping = true;
      return;
    }
    this.#scheduleReconnect(failure.message);
  }

  #scheduleReconnect(reason: string): void {
    if (this.#stopping || this.#reconnectTimer) return;
    const delayMs = this.#backoff.next();
    this.#log.warn(
      { reason, retryInMs: delayMs, attempt: this.#backoff.attempt },
      `broker unavailable; retrying in ${(delayMs / 1000).toFixed(1)} s`,
    );
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#attempt();
    }, delayMs);
  }

  #onConnected(client: MqttClient, connack: IConnackPacket, version: ProtocolVersion): void {
    if (this.#stopping) {
      client.end(true);
      return;
    }
    this.#client = client;
    this.#connected = true;
    this.#everConnected = true;
    this.#lastFailure = null;
    this.#backoff.reset();
    client.once("close", () => this.#onClosed(client));

    // Retained state first (latest value per topic), then whatever was queued, then subscriptions:
    // the broker sees current status before we can receive anything that would change it.
    for (const [topic, payload] of this.#retained)
      this.#send(client, topic, payload, { qos: 1, retain: true });
    for (const item of this.#queue.splice(0)) this.#send(client, item.topic, item.payload, item.opts);
    if (this.#dropped > 0)
      this.#log.info({ dropped: this.#dropped }, "transient messages dropped while offline");
    this.#dropped = 0;
    this.#subscribeOn(client, [...this.#subscriptions.values()]).catch((error: unknown) =>
      this.#log.error({ err: describeError(error) }, "subscribe failed"),
    );

    this.#log.info(
      { protocolVersion: version, sessionPresent: connack.sessionPresent },
      "connected to broker",
    );
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
    this.emit("connected", { protocolVersion: version, sessionPresent: connack.sessionPresent });
  }

  #onClosed(client: MqttClient): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#connected = false;
    client.removeAllListeners("message");
    client.end(true);
    if (this.#stopping) return;
    this.#log.warn({}, "connection to broker lost");
    this.emit("disconnected", { reason: "connection closed" });
    this.#scheduleReconnect("connection closed");
  }

  /**
   * mqtt.js sends a QoS 1 PUBACK when its `handleMessage` hook calls back; calling back with an
   * error skips the PUBACK without stalling its packet pump (holding the callback would block every
   * later packet, commands and PINGRESP included). The PUBACK is sent later by `ack()`.
   */
  #holdAcks(client: MqttClient): void {
    const hold = this.#opts.holdAck;
    if (!hold) return;
    client.handleMessage = (packet, callback) => {
      if (packet.cmd === "publish" && packet.qos === 1 && this.#held.has(packet)) {
        this.#held.delete(packet);
        callback(new Error("PUBACK held until the message is durable"));
        return;
      }
      callback();
    };
  }

  #ackFor(client: MqttClient, packet: IPublishPacket): () => void {
    const messageId = packet.messageId;
    let done = false;
    return () => {
      if (done || messageId === undefined) return;
      done = true;
      // Only on the connection it came on: a PUBACK on a newer one would acknowledge a different
      // message with the same id, and the broker redelivers this one there anyway.
      if (!client.connected || client.disconnecting) return;
      // mqtt.js has no public call for a deferred PUBACK; its own handler sends exactly this packet.
      const internal = client as unknown as { _sendPacket(packet: object): void };
      internal._sendPacket({ cmd: "puback", messageId, reasonCode: 0 });
    };
  }

  #onMessage(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const props = packet.properties;
    const correlation = props?.correlationData;
    const held = packet.qos === 1 && this.#opts.holdAck?.(topic) === true;
    if (held) this.#held.add(packet);
    this.emit("message", {
      ack: held ? this.#ackFor(client, packet) : () => undefined,
      topic,
      payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
      retain: packet.retain,
      correlationData: correlation ? new Uint8Array(correlation) : null,
      responseTopic: props?.responseTopic ?? null,
    });
  }

  async #subscribeOn(client: MqttClient, specs: readonly SubscriptionSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const map: Record<string, { qos: 0 | 1; nl?: boolean }> = {};
    for (const spec of specs) {
      map[spec.filter] =
        this.#version === 5 ? { qos: spec.qos ?? 1, nl: spec.noLocal ?? false } : { qos: spec.qos ?? 1 };
    }
    const granted = await client.subscribeAsync(map);
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) this.#log.error({ refused }, "broker refused subscriptions (check its ACL)");
  }

  #send(client: MqttClient, topic: string, payload: string | Uint8Array, opts: PublishOptions): void {
    client.publish(topic, toBuffer(payload), this.#packetOptions(opts), (error) => {
      if (error) this.#log.warn({ topic, err: describeError(error) }, "publish failed");
    });
  }

  #packetOptions(opts: PublishOptions): {
    qos: 0 | 1;
    retain: boolean;
    properties?: IPublishPacket["properties"];
  } {
    const base = { qos: opts.qos ?? 1, retain: opts.retain ?? false };
    if (this.#version !== 5) return base;
    const properties: NonNullable<IPublishPacket["properties"]> = {};
    if (opts.correlationData) properties.correlationData = toBuffer(opts.correlationData);
    if (opts.responseTopic) properties.responseTopic = opts.responseTopic;
    if (typeof opts.correlationData === "undefined" && typeof opts.responseTopic === "undefined") return base;
    return { ...base, properties };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The broker URL without credentials, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}
