import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** What a double answers while "failing": a status, headers and body, as the vendor documents it. */
export interface FailAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** A server certificate and key (PEM files), e.g. from test/helpers/certs.ts. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface DoubleRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The body, gunzipped when it came with `Content-Encoding: gzip`. */
  body: string;
}

export interface DoubleAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * The HTTP server under a protocol double (Elasticsearch, Splunk HEC, a plain NDJSON receiver):
 * a free loopback port, optionally TLS with a certificate the test made, and the three outages
 * the conformance suite asks for: refuse (stop listening, same port), stall (take requests,
 * never answer) and fail (answer with `failAnswer`).
 */
export class HttpDouble {
  private server: http.Server | https.Server;
  private mode: "up" | "refuse" | "stall" | "fail" = "up";
  private readonly stalled = new Set<http.ServerResponse>();
  port = 0;

  constructor(
    private readonly handle: (req: DoubleRequest) => DoubleAnswer,
    private readonly failAnswer: FailAnswer,
    private readonly tls?: TlsFiles,
  ) {
    this.server = this.create();
  }

  private create(): http.Server | https.Server {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.mode === "stall") {
          this.stalled.add(res);
          return;
        }
        if (this.mode === "fail") {
          res.writeHead(this.failAnswer.status, { "content-type": "application/json", ...this.failAnswer.headers }).end(this.failAnswer.body);
          return;
        }
        let raw = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
        const url = new URL(req.url ?? "/", "http://double");
        const answer = this.handle({ method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, body: raw.toString("utf8") });
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(answer.body);
      });
    };
    return this.tls ? https.createServer({ key: readFileSync(this.tls.keyFile), cert: readFileSync(this.tls.certFile) }, listener) : http.createServer(listener);
  }

  get url(): string {
    return `${this.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private async closeServer(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async refuse(): Promise<void> {
    this.mode = "refuse";
    await this.closeServer();
  }

  async stall(): Promise<void> {
    this.mode = "stall";
  }

  async fail(): Promise<void> {
    this.mode = "fail";
  }

  async restore(): Promise<void> {
    const wasRefusing = this.mode === "refuse";
    this.mode = "up";
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    if (wasRefusing) {
      this.server = this.create();
      await this.listen();
    }
  }

  async stop(): Promise<void> {
    if (this.mode !== "refuse") await this.closeServer();
  }
}
