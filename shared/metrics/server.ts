import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import { authenticate, type TokenStore } from "../auth/token-store.js";
import type { AuthError } from "../errors.js";
import { metrics } from "./registry.js";

/** `GET /metrics` on its own port, for a worker or shipper run alone (the api serves it itself). */
export async function startMetricsServer(host: string, port: number, log: Logger, tokens: TokenStore | null = null): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    try {
      if (tokens) authenticate(req.headers.authorization, tokens);
    } catch (err) {
      const { httpStatus, code, message, challenge } = err as AuthError;
      res.writeHead(httpStatus, { "content-type": "application/json", "www-authenticate": challenge }).end(JSON.stringify({ status: message, success: false, code }));
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const listen = (p: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch (err) {
    // A worker and a shipper on one host both default to the same port: the second still starts.
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    log.warn({ event: "metrics.port_in_use", port }, `metrics port ${port} in use; using a free port (set BROCAPI_METRICS_PORT)`);
    await listen(0);
  }
  const url = `http://${host}:${(server.address() as { port: number }).port}/metrics`;
  log.info({ event: "metrics.listening", url }, `metrics on ${url}`);
  return { url, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
