/**
 * The worker's only HTTP surface: /healthz (ready when broker and database are reachable),
 * /metrics (Prometheus text) and, with the fs store, the upload/download endpoint under /fs/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import {
  applyConnectionLimits,
  connectionsCheckingIntervalFor,
  DEFAULT_HTTP_CONNECTION_LIMITS,
  type THttpConnectionLimits,
} from "@fleetdrop/storage/http-connection-limits";

export type THealth = { ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> };

export type THttpDeps = {
  registry: Registry;
  health(): Promise<THealth>;
  /** Handles a request (returns true) or passes (false): the fs store endpoint. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Header timeout and connection caps (slow or idle clients must not hold the server). */
  limits?: THttpConnectionLimits;
};

export function createHttpServer(deps: THttpDeps): Server {
  const limits = deps.limits ?? DEFAULT_HTTP_CONNECTION_LIMITS;
  const server = createServer({ connectionsCheckingInterval: connectionsCheckingIntervalFor(limits) }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
      deps.health().then(
        (health) => sendJson(res, health.ok ? 200 : 503, { status: health.ok ? "ok" : "unavailable", ...health }),
        (error: unknown) => sendJson(res, 503, { status: "unavailable", error: String(error) }),
      );
      return;
    }
    if (req.method === "GET" && path === "/livez") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      deps.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": deps.registry.contentType });
          res.end(text);
        },
        (error: unknown) => sendJson(res, 500, { error: String(error) }),
      );
      return;
    }
    if (deps.extra?.(req, res)) return;
    sendJson(res, 404, { error: "not found" });
  });
  server.keepAliveTimeout = 65_000;
  applyConnectionLimits(server, limits);
  // Uploads of several GB take a while: no overall request timeout, the fs endpoint
  // watches for stalled and slow connections itself.
  server.requestTimeout = 0;
  return server;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
