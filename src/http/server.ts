/**
 * The gateway's local HTTP endpoint (config `http`): read-only, loopback by default.
 *
 *   GET /             the status page (static HTML + JS, live over server-sent events)
 *   GET /metrics      Prometheus text format
 *   GET /api/status   { gateway, modules }: the same JSON as the retained MQTT status topics
 *   GET /api/events   server-sent events: `status` snapshots and engine `event`s
 *   GET /healthz      200 while the engine answers ({ ok, mqtt })
 *
 * With a token, every request needs `Authorization: Bearer <token>` (RFC 6750 §2.1), or the
 * `access_token` query parameter (§2.3) that browsers need for EventSource, which sends no headers.
 * Anything but GET/HEAD is 405: the page shows, it never acts.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GatewayEvent, GatewayStatus, ModuleStatus } from "../gateway/index.js";
import { describeError } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { STATUS_PAGE } from "./page.js";
import type { GatewayMetrics } from "./metrics.js";

export interface HttpEngine {
  on(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  on(event: "gateway-status", listener: (status: GatewayStatus) => void): unknown;
  on(event: "event", listener: (event: GatewayEvent) => void): unknown;
  off(event: "module-status", listener: (status: ModuleStatus) => void): unknown;
  off(event: "gateway-status", listener: (status: GatewayStatus) => void): unknown;
  off(event: "event", listener: (event: GatewayEvent) => void): unknown;
  moduleStatuses(): ModuleStatus[];
  gatewayStatus(): GatewayStatus;
}

export interface HttpServerOptions {
  /** "host:port"; port 0 picks a free one. */
  listen: string;
  token?: string | undefined;
  engine: HttpEngine;
  metrics: GatewayMetrics;
  /** Whether the MQTT connection is up (healthz). */
  mqttConnected?: () => boolean;
  logger?: Logger;
  /** Recent events kept for a page that opens late. */
  recentEvents?: number;
}

export interface GatewayHttpServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Events kept for pages that connect later. */
const RECENT = 50;

export async function startHttpServer(opts: HttpServerOptions): Promise<GatewayHttpServer> {
  const log = (opts.logger ?? silentLogger).child({ component: "http" });
  const clients = new Set<ServerResponse>();
  const recent: GatewayEvent[] = [];
  const keep = opts.recentEvents ?? RECENT;
  const snapshot = (): { gateway: GatewayStatus; modules: Record<string, ModuleStatus> } => ({
    gateway: opts.engine.gatewayStatus(),
    modules: Object.fromEntries(opts.engine.moduleStatuses().map((m) => [m.module, m])),
  });
  const send = (name: string, data: unknown): void => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of clients) client.write(frame);
  };
  const onModule = (status: ModuleStatus): void => send("module", status);
  const onGateway = (status: GatewayStatus): void => send("gateway", status);
  const onEvent = (event: GatewayEvent): void => {
    recent.push(event);
    if (recent.length > keep) recent.shift();
    if (event.type !== "progress") send("event", event);
  };
  opts.engine.on("module-status", onModule);
  opts.engine.on("gateway-status", onGateway);
  opts.engine.on("event", onEvent);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: describeError(error), url: req.url }, "request failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("read-only\n");
      return;
    }
    if (opts.token !== undefined && !authorised(req, url, opts.token)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="subflash"', "content-type": "text/plain" });
      res.end("a bearer token is required\n");
      return;
    }
    const common = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    switch (url.pathname) {
      case "/":
        res.writeHead(200, {
          ...common,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
        });
        res.end(STATUS_PAGE);
        return;
      case "/metrics":
        res.writeHead(200, { ...common, "content-type": opts.metrics.registry.contentType });
        res.end(await opts.metrics.metrics());
        return;
      case "/api/status":
        res.writeHead(200, { ...common, "content-type": "application/json" });
        res.end(JSON.stringify(snapshot()));
        return;
      case "/healthz": {
        const mqtt = opts.mqttConnected?.() ?? null;
        res.writeHead(200, { ...common, "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, mqtt }));
        return;
      }
      case "/api/events":
        res.writeHead(200, { ...common, "content-type": "text/event-stream", connection: "keep-alive" });
        res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify({ ...snapshot(), recent })}\n\n`);
        clients.add(res);
        req.on("close", () => clients.delete(res));
        return;
      default:
        res.writeHead(404, { ...common, "content-type": "text/plain" });
        res.end("not found\n");
    }
  }

  const { host, port } = splitListen(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  log.info({ url, token: opts.token !== undefined }, "HTTP status endpoint listening");
  return {
    url,
    server,
    close: async () => {
      opts.engine.off("module-status", onModule);
      opts.engine.off("gateway-status", onGateway);
      opts.engine.off("event", onEvent);
      for (const client of clients) client.end();
      clients.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authorised(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization;
  const given = header?.startsWith("Bearer ") ? header.slice(7).trim() : url.searchParams.get("access_token");
  if (given === null || given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(":");
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(listen.slice(colon + 1)) };
}
