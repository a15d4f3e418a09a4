import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { BrocapiError, ErrorCodes } from "../../../../shared/errors.js";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * The destination could not take the request now: a connection error, a time-out, 429 or 5xx.
 * The runner retries the batch in place, after `retryAfterMs` when the server said how long.
 */
export class SinkUnavailableError extends BrocapiError {
  override readonly name = "SinkUnavailableError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super(ErrorCodes.SINK_UNAVAILABLE, message, { cause });
  }
}

/** `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * POSTs to one server over a keep-alive connection pool, trusting `caFile` for https. Resolves
 * with any HTTP answer (the sink decides what a status means); rejects with SinkUnavailableError
 * when no answer came (refused, reset, timed out).
 */
export class HttpPoster {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(
    private readonly base: URL,
    private readonly timeoutMs: number,
    caFile?: string,
  ) {
    this.transport = base.protocol === "https:" ? https : http;
    this.agent = base.protocol === "https:" ? new https.Agent({ keepAlive: true, ...(caFile ? { ca: readFileSync(caFile) } : {}) }) : new http.Agent({ keepAlive: true });
  }

  post(path: string, body: Buffer | string, headers: Record<string, string>): Promise<HttpAnswer> {
    const url = new URL(path, this.base);
    const data = typeof body === "string" ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      // One deadline for the whole exchange (connect, TLS, answer), not only for an idle socket.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(new SinkUnavailableError(`${url.origin}: ${err.message}`, undefined, err));
      };
      const req = this.transport.request(url, { method: "POST", agent: this.agent, headers: { ...headers, "content-length": String(data.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", fail);
      });
      // Without it, Nagle's algorithm and the server's delayed ACK hold small requests back ~40 ms each.
      req.on("socket", (socket) => socket.setNoDelay(true));
      req.on("error", fail);
      req.end(data);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
