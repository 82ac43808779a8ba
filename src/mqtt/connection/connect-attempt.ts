/**
 * One connection attempt with a fresh mqtt.js client (its own reconnect switched off), and what a
 * failed attempt means: the broker refused the protocol version (try 3.1.1), refused us (auth, ACL),
 * could not be reached, or timed out. MqttConnection decides what to do next.
 */
import mqtt from "mqtt";
import type { IClientOptions, IConnackPacket, MqttClient } from "mqtt";
import { describeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";

export type ProtocolVersion = 4 | 5;

export interface MqttTlsOptions {
  /** PEM contents (not paths): CA bundle, client certificate, client key. */
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  rejectUnauthorized?: boolean;
}

/** What one attempt needs from the connection options. */
export interface AttemptSettings {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  will?: { topic: string; payload: string | Uint8Array; retain: boolean };
  persistentSession?: boolean;
  sessionExpirySeconds?: number;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  maximumPacketSize?: number;
}

/** Why one connection attempt failed; decides between falling back to 3.1.1 and backing off. */
export class ConnectFailure extends Error {
  constructor(
    readonly kind: "protocol" | "refused" | "network" | "timeout" | "closed",
    message: string,
  ) {
    super(message);
  }
}

/** CONNACK codes meaning "not this protocol version": 3.1.1 return code 1, MQTT 5 reasons 0x84 and 0x82. */
const PROTOCOL_REFUSALS = new Set([1, 0x84, 0x82]);

/** One attempt with a fresh client; resolves on CONNACK success, rejects with a ConnectFailure saying why. */
export function connectAttempt(
  o: AttemptSettings,
  version: ProtocolVersion,
  log: Logger,
  /**
   * Called with the client before it connects: a resumed session's queued messages can arrive in
   * the same read as the CONNACK, before this promise settles, and must find their listener.
   */
  prepare?: (client: MqttClient) => void,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const timeoutMs = o.connectTimeoutMs ?? 10_000;
  const options: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    keepalive: o.keepaliveSeconds ?? 30,
    clean: !o.persistentSession,
    resubscribe: false,
    queueQoSZero: false,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.tls ? tlsOptions(o.tls) : {}),
    ...(o.will
      ? { will: { topic: o.will.topic, payload: toBuffer(o.will.payload), qos: 1, retain: o.will.retain } }
      : {}),
    ...(version === 5
      ? {
          properties: {
            ...(o.persistentSession ? { sessionExpiryInterval: o.sessionExpirySeconds ?? 86_400 } : {}),
            ...(o.maximumPacketSize !== undefined ? { maximumPacketSize: o.maximumPacketSize } : {}),
          },
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    let error: unknown = null;
    let client: MqttClient;
    try {
      client = mqtt.connect(o.url, options);
      prepare?.(client);
    } catch (thrown) {
      reject(new ConnectFailure("network", describeError(thrown)));
      return;
    }
    // mqtt.js emits "error" for refusals and socket errors; an emitter without a listener would throw.
    client.on("error", (e) => {
      error = e;
      log.debug({ err: describeError(e) }, "mqtt client error");
    });
    const timer = setTimeout(() => finish(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs + 1000);
    const finish = (timeout?: Error): void => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("close", onClose);
      client.end(true);
      reject(classifyFailure(timeout ?? error, timeout !== undefined));
    };
    const onConnect = (connack: IConnackPacket): void => {
      clearTimeout(timer);
      client.off("close", onClose);
      resolve({ client, connack });
    };
    const onClose = (): void => finish();
    client.once("connect", onConnect);
    client.once("close", onClose);
  });
}

function classifyFailure(error: unknown, timedOut: boolean): ConnectFailure {
  if (timedOut) return new ConnectFailure("timeout", describeError(error));
  if (error === null || error === undefined)
    return new ConnectFailure("closed", "broker closed the connection before CONNACK");
  const message = describeError(error);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number")
    return new ConnectFailure(PROTOCOL_REFUSALS.has(code) ? "protocol" : "refused", message);
  if (/unacceptable protocol version|unsupported protocol/i.test(message))
    return new ConnectFailure("protocol", message);
  if (/connack timeout|timed? ?out/i.test(message)) return new ConnectFailure("timeout", message);
  return new ConnectFailure("network", message);
}

function tlsOptions(tls: MqttTlsOptions): Partial<IClientOptions> {
  return {
    ...(tls.ca !== undefined ? { ca: toBuffer(tls.ca) } : {}),
    ...(tls.cert !== undefined ? { cert: toBuffer(tls.cert) } : {}),
    ...(tls.key !== undefined ? { key: toBuffer(tls.key) } : {}),
    ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
  };
}

/** Payload bytes as mqtt.js wants them (a Buffer view, no copy). */
export function toBuffer(payload: string | Uint8Array): Buffer {
  if (typeof payload === "string") return Buffer.from(payload, "utf8");
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
