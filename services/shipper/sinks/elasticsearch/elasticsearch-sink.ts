import { z } from "zod";
import { batchMsgId, batchSource, type LogBatch } from "../../../../shared/messages/log-batch.js";
import { envelopedLines, lineTimeMs } from "../envelope.js";
import { HttpPoster, retryAfterMs, SinkUnavailableError } from "../http-client/http-post.js";
import { existingFile, httpSettings, readSecret, settingHeaders } from "../http-client/http-settings.js";
import type { Sink, SinkFactory, WriteResult } from "../sink.js";
import { bulkResponseSchema, itemOutcome } from "./bulk-response.js";
import { indexName } from "./index-name.js";

const elasticsearchOptions = z
  .object({
    url: z.url({ protocol: /^https?$/ }).describe("Elasticsearch or OpenSearch base URL, e.g. `https://es1:9200`."),
    index: z.string().min(1).default("zeek-{log}-{yyyy.MM.dd}").describe("Index per line: `{log}` the log type, `{yyyy.MM.dd}` (also `HH`) the UTC day of its `ts`. Default `zeek-{log}-{yyyy.MM.dd}`."),
    auth: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("apiKey"), apiKeyFile: existingFile("API key") }),
        z.object({ type: z.literal("basic"), username: z.string().min(1), passwordFile: existingFile("password") }),
      ])
      .optional()
      .describe("`{type: apiKey, apiKeyFile}` (the encoded key Elasticsearch returns) or `{type: basic, username, passwordFile}`."),
    ...httpSettings,
  })
  .strict();
type ElasticsearchOptions = z.output<typeof elasticsearchOptions>;

interface Doc {
  action: string;
  source: string;
}

const SETTINGS = new Set([401, 403, 404, 405, 407]);

/**
 * Indexes every line as one document through `_bulk`, with `create` and an `_id` fixed by (job,
 * capture, log, line number): a redelivered batch meets 409 version conflicts, which mean
 * "already indexed", so nothing is indexed twice. Per item: 429/503 are retried (only those
 * documents: the batch's remaining documents are kept for the retry of the same batch), other
 * failures such as mapping errors are counted as rejected and reported, never retried forever.
 */
export class ElasticsearchSink implements Sink {
  readonly kind = "elasticsearch";
  private readonly poster: HttpPoster;
  private readonly headers: Record<string, string>;
  /** The batch being retried: its documents still to index, and what was rejected so far. */
  private retrying: { id: string; docs: Doc[]; rejected: number; reason: string } | null = null;

  constructor(private readonly options: ElasticsearchOptions) {
    this.poster = new HttpPoster(new URL(options.url), options.timeoutMs, options.caFile);
    const auth = options.auth;
    const authorization =
      auth?.type === "apiKey" ? `ApiKey ${readSecret(auth.apiKeyFile)}` : auth?.type === "basic" ? `Basic ${Buffer.from(`${auth.username}:${readSecret(auth.passwordFile)}`).toString("base64")}` : undefined;
    this.headers = { "content-type": "application/x-ndjson", ...(authorization ? { authorization } : {}), ...settingHeaders(options) };
  }

  private docs(batch: LogBatch): Doc[] {
    const docs: Doc[] = [];
    let n = batch.firstLine;
    for (const line of envelopedLines(batch)) {
      const at = lineTimeMs(line);
      const time = at === null ? Date.now() : at;
      const id = `${batch.jobId}:${batchSource(batch)}:${batch.logType}:${n++}`;
      docs.push({
        action: JSON.stringify({ create: { _index: indexName(this.options.index, batch.logType, time), _id: id } }),
        source: at === null ? line : `{"@timestamp":"${new Date(at).toISOString()}",${line.slice(1)}`,
      });
    }
    return docs;
  }

  async write(batch: LogBatch): Promise<WriteResult | void> {
    const id = batchMsgId(batch);
    const state = this.retrying?.id === id ? this.retrying : { id, docs: this.docs(batch), rejected: 0, reason: "" };
    this.retrying = state;
    const body = state.docs.map((d) => `${d.action}\n${d.source}\n`).join("");
    const res = await this.poster.post("/_bulk", body, this.headers);
    const what = (detail: string): string => `elasticsearch ${this.options.url}: ${detail}`;
    if (res.status !== 200) {
      const detail = `${res.status} ${res.body.slice(0, 300)}`;
      if (res.status === 429 || res.status >= 500 || SETTINGS.has(res.status)) throw new SinkUnavailableError(what(detail), retryAfterMs(res.headers["retry-after"]));
      // The request itself was refused (400 malformed, 413 too large): retrying cannot help.
      this.retrying = null;
      return { rejected: state.rejected + state.docs.length, reason: what(detail) };
    }
    const answer = bulkResponseSchema.parse(JSON.parse(res.body));
    const again: Doc[] = [];
    let retryReason = "";
    answer.items.forEach((item, i) => {
      const result = Object.values(item)[0]!;
      const outcome = itemOutcome(result.status);
      const reason = `${result.status} ${result.error?.type ?? ""}: ${result.error?.reason ?? ""}`;
      if (outcome === "retry") {
        again.push(state.docs[i]!);
        retryReason = reason;
      } else if (outcome === "rejected") {
        state.rejected++;
        state.reason = what(`document ${JSON.parse(state.docs[i]!.action).create._id} rejected: ${reason}`);
      }
    });
    if (again.length > 0) {
      state.docs = again;
      throw new SinkUnavailableError(what(`${again.length} documents not indexed yet (${retryReason}); retrying those`));
    }
    this.retrying = null;
    if (state.rejected > 0) return { rejected: state.rejected, reason: state.reason };
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

export const elasticsearchSinkFactory: SinkFactory<ElasticsearchOptions> = {
  kind: "elasticsearch",
  optionsSchema: elasticsearchOptions,
  formats: ["json"],
  create: (options) => new ElasticsearchSink(options),
};
