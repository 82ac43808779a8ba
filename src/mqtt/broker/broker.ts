/**
 * An embedded MQTT broker (aedes, MQTT 3.1.1) for the demo and tests: no installation, loopback
 * only, a free port by default. It does not speak MQTT 5, so clients talking to it exercise the
 * 3.1.1 fallback. Retained messages live in memory and die with it — like a Mosquitto without
 * persistence, which is why the gateway re-publishes its retained state on every reconnect.
 */
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  /** mqtt://127.0.0.1:{port} */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drops every client and frees the port. */
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** Interface to listen on. Default 127.0.0.1: the demo broker is not meant to be reachable from outside. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? "127.0.0.1";
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: () => {
      closed ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await serverClosed;
      })();
      return closed;
    },
  };
}
