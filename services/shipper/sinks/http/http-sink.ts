import { gzipSync } from "node:zlib";
import { z } from "zod";
import { batchMsgId, type LogBatch } from "../../../../shared/messages/log-batch.js";
import { envelopedLines } from "../envelope.js";
import { HttpPoster, retryAfterMs, SinkUnavailableError } from "../http-client/http-post.js";
import { existingFile, httpSettings, readSecret, settingHeaders } from "../http-client/http-settings.js";
import type { Sink, SinkFactory, WriteResult } from "../sink.js";

const httpOptions = z
  .object({
    url: z.url({ protocol: /^https?$/ }).describe("Where each batch is POSTed, http:// or https://."),
    gzip: z.boolean().default(false).describe("Send bodies gzip-compressed (`Content-Encoding: gzip`). Default false."),
    auth: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("basic"), username: z.string().min(1), passwordFile: existingFile("password") }),
        z.object({ type: z.literal("bearer"), tokenFile: existingFile("token") }),
      ])
      .optional()
      .describe("`{type: basic, username, passwordFile}` or `{type: bearer, tokenFile}`; secrets read from the files at start."),
    ...httpSettings,
  })
  .strict();
type HttpOptions = z.output<typeof httpOptions>;

/** Statuses that say the request is fine but the server is not (now): retried, honouring Retry-After. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Statuses that say the sink's settings are wrong (credentials, URL): retried in place until fixed, never dropped. */
const SETTINGS = new Set([401, 403, 404, 405, 407]);

/**
 * POSTs each batch as NDJSON (one JSON object per line with the `brocapi` envelope), with the
 * batch's msg id in `X-Brocapi-Batch` so a receiver can drop a batch it already has. 2xx:
 * delivered. Connection errors, 408/429/5xx: retried in place with backoff or after
 * `Retry-After`. 401/403/404/405/407: the settings are wrong; retried in place (shown on the
 * job's lastError) until they are fixed. Any other 4xx refuses the content itself: the batch's
 * lines are counted as rejected and reported, never silently dropped.
 */
export class HttpSink implements Sink {
  readonly kind = "http";
  private readonly poster: HttpPoster;
  private readonly headers: Record<string, string>;
  private readonly path: string;

  constructor(private readonly options: HttpOptions) {
    const url = new URL(options.url);
    this.path = `${url.pathname}${url.search}`;
    this.poster = new HttpPoster(url, options.timeoutMs, options.caFile);
    const auth = options.auth;
    const authorization =
      auth?.type === "basic" ? `Basic ${Buffer.from(`${auth.username}:${readSecret(auth.passwordFile)}`).toString("base64")}` : auth?.type === "bearer" ? `Bearer ${readSecret(auth.tokenFile)}` : undefined;
    this.headers = {
      "content-type": "application/x-ndjson",
      ...(options.gzip ? { "content-encoding": "gzip" } : {}),
      ...(authorization ? { authorization } : {}),
      ...settingHeaders(options),
    };
  }

  async write(batch: LogBatch): Promise<WriteResult | void> {
    const ndjson = `${[...envelopedLines(batch)].join("\n")}\n`;
    const body = this.options.gzip ? gzipSync(ndjson) : Buffer.from(ndjson);
    const res = await this.poster.post(this.path, body, { ...this.headers, "x-brocapi-batch": batchMsgId(batch) });
    if (res.status >= 200 && res.status < 300) return;
    const what = `http ${this.options.url}: ${res.status} ${res.body.slice(0, 200).trim()}`.trim();
    if (RETRYABLE.has(res.status)) throw new SinkUnavailableError(what, retryAfterMs(res.headers["retry-after"]));
    if (SETTINGS.has(res.status) || res.status < 400 || res.status >= 500) throw new SinkUnavailableError(what);
    return { rejected: batch.lineCount, reason: what };
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

export const httpSinkFactory: SinkFactory<HttpOptions> = {
  kind: "http",
  optionsSchema: httpOptions,
  formats: ["json", "as-written"],
  create: (options) => new HttpSink(options),
};
