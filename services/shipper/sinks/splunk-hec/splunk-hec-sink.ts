import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { LogBatch } from "../../../../shared/messages/log-batch.js";
import { sleep } from "../../../../shared/service/backoff.js";
import { envelopedLines, lineTimeMs } from "../envelope.js";
import { HttpPoster, retryAfterMs, SinkUnavailableError } from "../http-client/http-post.js";
import { existingFile, httpSettings, readSecret, settingHeaders } from "../http-client/http-settings.js";
import type { Sink, SinkFactory, WriteResult } from "../sink.js";
import { hecAcksSchema, hecAnswerSchema, hecOutcome } from "./hec-response.js";

const splunkHecOptions = z
  .object({
    url: z.url({ protocol: /^https?$/ }).describe("HEC base URL, e.g. `https://splunk:8088`; events go to `/services/collector/event`."),
    tokenFile: existingFile("HEC token").describe("File holding the HEC token (sent as `Authorization: Splunk <token>`)."),
    index: z.string().min(1).optional().describe("Splunk index (default: the token's default index)."),
    source: z.string().min(1).default("brocapi").describe("`source` of every event. Default `brocapi`."),
    sourcetype: z
      .string()
      .min(1)
      .default("bro:{log}:json")
      .describe("`sourcetype` per event, `{log}` the log type. Default `bro:{log}:json`, the names the Splunk Add-on for Zeek (Splunk_TA_bro) extracts fields for."),
    ack: z
      .object({
        pollMs: z.number().int().min(10).default(1_000).describe("How often `/services/collector/ack` is asked, in ms. Default 1000."),
        timeoutMs: z.number().int().min(100).default(120_000).describe("How long to wait for the acknowledgement before sending the batch again, in ms. Default 120000."),
      })
      .optional()
      .describe("Indexer acknowledgement (the token must have it on): the batch is acked on NATS only after Splunk says it was indexed. Off when unset."),
    ...httpSettings,
  })
  .strict();
type SplunkHecOptions = z.output<typeof splunkHecOptions>;

/**
 * Sends each batch as one HEC request of events (`/services/collector/event`): `time` from the
 * line's `ts`, `host` = the job's tag, `sourcetype` per log type as the Splunk Add-on for Zeek
 * names them, `event` = Zeek's JSON fields with the `brocapi` envelope. With `ack`, each request
 * carries a channel and the write resolves only once `/services/collector/ack` reports the
 * request's ackId indexed; an acknowledgement that does not come in time sends the batch again
 * (HEC has no ids: at-least-once).
 */
export class SplunkHecSink implements Sink {
  readonly kind = "splunk-hec";
  private readonly poster: HttpPoster;
  private readonly headers: Record<string, string>;
  private readonly channel = randomUUID();

  constructor(private readonly options: SplunkHecOptions) {
    this.poster = new HttpPoster(new URL(options.url), options.timeoutMs, options.caFile);
    this.headers = {
      "content-type": "application/json",
      authorization: `Splunk ${readSecret(options.tokenFile)}`,
      ...(options.ack ? { "x-splunk-request-channel": this.channel } : {}),
      ...settingHeaders(options),
    };
  }

  private events(batch: LogBatch): string {
    const meta = (at: number | null): string =>
      JSON.stringify({
        time: at === null ? Date.now() / 1000 : at / 1000,
        host: batch.tag ?? "brocapi",
        source: this.options.source,
        sourcetype: this.options.sourcetype.replace(/\{log\}/g, batch.logType),
        ...(this.options.index ? { index: this.options.index } : {}),
      }).slice(0, -1);
    const out: string[] = [];
    for (const line of envelopedLines(batch)) out.push(`${meta(lineTimeMs(line))},"event":${line}}`);
    return out.join("\n");
  }

  private failure(status: number, body: string): SinkUnavailableError | string {
    const answer = hecAnswerSchema.safeParse(safeJson(body));
    const code = answer.success ? answer.data.code : undefined;
    const what = `splunk-hec ${this.options.url}: ${status}${answer.success ? ` code ${code} ${answer.data.text}` : ` ${body.slice(0, 200)}`}`;
    return hecOutcome(code, status) === "rejected" ? what : new SinkUnavailableError(what);
  }

  async write(batch: LogBatch): Promise<WriteResult | void> {
    const res = await this.poster.post("/services/collector/event", this.events(batch), this.headers);
    if (res.status !== 200) {
      const failure = this.failure(res.status, res.body);
      if (typeof failure === "string") return { rejected: batch.lineCount, reason: failure };
      throw new SinkUnavailableError(failure.message, retryAfterMs(res.headers["retry-after"]));
    }
    if (!this.options.ack) return;
    const ackId = hecAnswerSchema.parse(JSON.parse(res.body)).ackId;
    if (ackId === undefined) throw new SinkUnavailableError(`splunk-hec ${this.options.url}: no ackId in the answer; is indexer acknowledgement on for this token?`);
    await this.waitForAck(ackId);
  }

  /** Polls `/services/collector/ack` until Splunk says `ackId` was indexed, or gives up (the batch is sent again). */
  private async waitForAck(ackId: number): Promise<void> {
    const { pollMs, timeoutMs } = this.options.ack!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.poster.post(`/services/collector/ack?channel=${this.channel}`, JSON.stringify({ acks: [ackId] }), this.headers);
      if (res.status !== 200) {
        const failure = this.failure(res.status, res.body);
        throw typeof failure === "string" ? new SinkUnavailableError(failure) : failure;
      }
      if (hecAcksSchema.parse(JSON.parse(res.body)).acks[String(ackId)] === true) return;
      if (Date.now() >= deadline) throw new SinkUnavailableError(`splunk-hec ${this.options.url}: ackId ${ackId} not acknowledged within ${timeoutMs} ms; sending the batch again`);
      await sleep(pollMs);
    }
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const splunkHecSinkFactory: SinkFactory<SplunkHecOptions> = {
  kind: "splunk-hec",
  optionsSchema: splunkHecOptions,
  formats: ["json"],
  create: (options) => new SplunkHecSink(options),
};
