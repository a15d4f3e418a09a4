import http from "node:http";
import https from "node:https";
import type { CapturePage, FileState, Job, JobList, SubmitAnswer } from "./api-types.js";
import { ApiError, UsageError } from "./errors.js";
import { httpRequest, openConnection, type Connection, type Credentials } from "./http-request.js";
import { printable } from "./format.js";
import type { MultipartBody } from "./multipart.js";
import type { UploadProgress } from "./progress.js";

/** The error for a non-2xx answer: the server's `status` sentence when the body is the API's JSON. */
function httpFailure(httpStatus: number, text: string): ApiError {
  let answer: { status?: unknown; code?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object") answer = parsed;
  } catch {
    // Not the API's JSON (a proxy's error page, say): its first line is the best there is.
  }
  const detail = typeof answer.status === "string" ? answer.status : text.trim().split("\n")[0] || "(empty answer)";
  return new ApiError(`server answered ${httpStatus}: ${printable(detail)}`, httpStatus, typeof answer.code === "string" ? answer.code : undefined);
}

/** TLS errors that mean the server's certificate does not chain to a CA the client trusts. */
const UNTRUSTED = new Set(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED"]);

/** The error for a request that got no answer. */
function unreachable(base: string, err: unknown): ApiError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const hint = UNTRUSTED.has(code) ? " (give the CA that signed the server's certificate with --ca or BROCAPI_CA_FILE)" : "";
  return new ApiError(`cannot reach ${base}: ${(err as Error).message}${hint}`);
}

function parseJson<T>(httpStatus: number, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(`server answered ${httpStatus} with something that is not JSON: ${printable(text.slice(0, 80))}`, httpStatus);
  }
}

/** Resolves once `req` can take more body, or once it is closed and never will. */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off("drain", done);
      req.off("close", done);
      resolve();
    };
    req.on("drain", done);
    req.on("close", done);
  });
}

/** The Brocapi HTTP API at one base URL. Every failure is an ApiError (exit 3) carrying the server's words. */
export class ApiClient {
  private readonly connection: Connection;

  constructor(
    readonly baseUrl: string,
    credentials: Credentials = {},
  ) {
    this.connection = openConnection(credentials);
  }

  /** Path of a job's resource, the id escaped so it stays one path segment. */
  static jobPath(id: string, ...rest: string[]): string {
    return ["/jobs", id, ...rest].map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join("/");
  }

  /** Sends a request and returns the answer once its status is 2xx; the body is left unread. */
  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await httpRequest(new URL(`${this.baseUrl}${path}`), this.connection, init);
    } catch (err) {
      throw unreachable(this.baseUrl, err);
    }
    if (!res.ok) throw httpFailure(res.status, await res.text().catch(() => ""));
    return res;
  }

  private async json<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const sent = init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { accept: "application/json", "content-type": "application/json" } };
    const res = await this.request(path, { ...(init.method ? { method: init.method } : {}), headers: { accept: "application/json" }, ...sent });
    return parseJson<T>(res.status, await res.text());
  }

  /** `GET /jobs/:id`: the summary and the first `limit` captures (the server's default page when not given). */
  job(id: string, limit?: number): Promise<Job> {
    return this.json<Job>(`${ApiClient.jobPath(id)}${limit === undefined ? "" : `?limit=${limit}`}`);
  }

  /** `GET /jobs/:id/captures`: a page of captures in `states`, from the capture index `cursor` on. */
  captures(id: string, q: { states: readonly FileState[]; cursor: string; limit: number }): Promise<CapturePage> {
    const query = new URLSearchParams({ state: q.states.join(","), cursor: q.cursor, limit: String(q.limit) });
    return this.json<CapturePage>(`${ApiClient.jobPath(id, "captures")}?${query}`);
  }

  /** `GET /jobs/:id` as the server wrote it, for `--json`. */
  async jobText(id: string): Promise<string> {
    return (await this.request(ApiClient.jobPath(id), { headers: { accept: "application/json" } })).text();
  }

  /** One page of `GET /jobs`; only the filters given are sent. */
  jobs(filter: { tag?: string; state?: string; limit: number; cursor?: string }): Promise<JobList> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
    return this.json<JobList>(`/jobs?${query}`);
  }

  /** `DELETE /jobs/:id`; returns the server's `status`. */
  async deleteJob(id: string): Promise<string> {
    return (await this.json<{ status: string }>(ApiClient.jobPath(id), { method: "DELETE" })).status;
  }

  /** `POST /jobs/:id/replay` for one sink instance; returns the server's `status`. */
  async replay(id: string, sink: string): Promise<string> {
    return (await this.json<{ status: string }>(ApiClient.jobPath(id, "replay"), { method: "POST", body: { sink } })).status;
  }

  /**
   * `POST /submit/pcap` with a streamed body: chunks are written as the socket takes them, and
   * `progress` hears of each (and of each capture's part). `http.request` rather than fetch, so
   * that the body goes out with its Content-Length and each write waits for the socket, which
   * makes the count of bytes sent real.
   */
  submit(body: MultipartBody, progress: UploadProgress): Promise<SubmitAnswer> {
    const url = new URL(`${this.baseUrl}/submit/pcap`);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<SubmitAnswer>((resolve, reject) => {
      let answered = false;
      let readError: Error | undefined;
      let sent = 0;
      const req = transport.request(url, {
        method: "POST",
        // Keep-alive (the connection's agent), not `agent: false` (which sends `Connection: close`): a server told to close
        // closes the moment it refuses an upload, the unread rest of the body makes its kernel
        // reset the connection, and Node's next write fails with EPIPE before the answer is read.
        // Kept alive, the server answers and waits; the socket is destroyed once the answer is in.
        agent: this.connection.agent(url),
        headers: { "content-type": body.contentType, "content-length": String(body.length), accept: "application/json", ...this.connection.headers },
      });
      req.on("error", (err) => {
        if (answered) return; // the server refused early and closed; its answer is what counts
        if (readError) reject(new UsageError(readError.message));
        else if (sent > 0) reject(new ApiError(`the server closed the connection after ${sent} of ${body.length} bytes, without an answer (${err.message})`));
        else reject(unreachable(this.baseUrl, err));
      });
      req.on("response", (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (s: string) => (text += s));
        res.on("error", (err) => reject(unreachable(this.baseUrl, err)));
        res.on("end", () => {
          // The server may answer (413, 415) before reading the whole body: stop sending the rest.
          req.destroy();
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(httpFailure(status, text));
          try {
            const answer = parseJson<SubmitAnswer | { success: false; status: string }>(status, text);
            if (answer.success) resolve(answer);
            else reject(httpFailure(status, text));
          } catch (err) {
            reject(err);
          }
        });
      });
      void (async () => {
        try {
          for await (const chunk of body.stream(() => progress.file())) {
            if (answered || req.destroyed) return;
            const more = req.write(chunk);
            sent += chunk.length;
            progress.advance(chunk.length);
            if (!more) await drained(req);
          }
          req.end();
        } catch (err) {
          readError = err as Error;
          req.destroy(readError);
        }
      })();
    });
  }
}
