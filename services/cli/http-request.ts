import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { UsageError } from "./errors.js";

/** Where the token and the server's CA come from: `--token`, `BROCAPI_TOKEN`, `BROCAPI_TOKEN_FILE`; `--ca`, `BROCAPI_CA_FILE`. */
export interface Credentials {
  token?: string;
  tokenFile?: string;
  caFile?: string;
}

/** Credentials read and checked: the header to send, and the agent options that verify the server. */
export interface Connection {
  headers: Record<string, string>;
  agent: (url: URL) => http.Agent;
}

function readSecret(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads the token and CA files once. An HTTPS server is verified against the system's CAs, or
 * only against `caFile` when one is given; the token goes in `Authorization: Bearer`.
 */
export function openConnection(credentials: Credentials = {}): Connection {
  const token = credentials.token ?? (credentials.tokenFile ? readSecret("the token file", credentials.tokenFile).toString("utf8").trim() : undefined);
  const ca = credentials.caFile ? readSecret("the CA file", credentials.caFile) : undefined;
  // Keep-alive, not `agent: false` (which sends `Connection: close`); see ApiClient.submit.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }) };
  return {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    agent: (url) => (url.protocol === "https:" ? agents.https : agents.http),
  };
}

/**
 * A GET or DELETE through node:http(s), answered as a fetch Response. Node 20's fetch cannot be
 * given a CA of its own, and `--ca` must work there; the body streams as fetch's would.
 */
export function httpRequest(url: URL, connection: Connection, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: init.method ?? "GET", agent: connection.agent(url), headers: { ...init.headers, ...connection.headers } });
    req.on("error", reject);
    req.on("response", (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      resolve(new Response(Readable.toWeb(res) as unknown as ConstructorParameters<typeof Response>[0], { status: res.statusCode ?? 0, headers }));
    });
    req.end(init.body);
  });
}
