/** Small helpers for the MQTT tests: an observer client that records what it receives. */
import { randomUUID } from "node:crypto";
import { MqttConnection } from "../../src/mqtt/connection/connection.js";
import type { InboundMessage, ProtocolVersion } from "../../src/mqtt/connection/connection.js";

export interface Observer {
  connection: MqttConnection;
  messages: InboundMessage[];
  texts(topic: string): string[];
  waitFor(pred: (m: InboundMessage) => boolean, timeoutMs?: number, what?: string): Promise<InboundMessage>;
  close(): Promise<void>;
}

export async function observe(
  url: string,
  filters: string[],
  protocolVersion: ProtocolVersion = 5,
): Promise<Observer> {
  const connection = new MqttConnection({
    url,
    clientId: `observer-${randomUUID().slice(0, 8)}`,
    protocolVersion,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  const messages: InboundMessage[] = [];
  connection.on("message", (m) => messages.push(m));
  connection.start();
  await connection.waitConnected(5000);
  await connection.subscribe(filters.map((filter) => ({ filter, qos: 1 })));
  return {
    connection,
    messages,
    texts: (topic) =>
      messages.filter((m) => m.topic === topic).map((m) => new TextDecoder().decode(m.payload)),
    waitFor: (pred, timeoutMs = 5000, what = "a message") =>
      new Promise((resolve, reject) => {
        const found = messages.find(pred);
        if (found) return resolve(found);
        const timer = setTimeout(() => {
          connection.off("message", check);
          reject(new Error(`timed out waiting for ${what}; got ${messages.map((m) => m.topic).join(", ")}`));
        }, timeoutMs);
        const check = (m: InboundMessage): void => {
          if (!pred(m)) return;
          clearTimeout(timer);
          connection.off("message", check);
          resolve(m);
        };
        connection.on("message", check);
      }),
    close: () => connection.stop(),
  };
}

export function text(m: InboundMessage): string {
  return new TextDecoder().decode(m.payload);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
