// Lines/s from worker publish to delivery for the http, elasticsearch and splunk-hec sinks, each
// into its protocol double (which parses and keeps every line) and into a discarding receiver
// (which answers at once: the sink's own ceiling); and what a job routed away costs a filtering
// sink, by subject filter and by the runner's check. Prints Markdown rows.
//   npm run bench -- sinks [lines]
import http from "node:http";
import { gunzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { resolveSinks } from "../services/shipper/resolve-sinks.js";
import { startSinkInstance } from "../services/shipper/shipper.js";
import { publishLogs } from "../services/worker/publish-logs.js";
import { loadConfig } from "../shared/config/load.js";
import type { SinkInstance } from "../shared/config/sink-instance.js";
import { createContext, type ServiceContext } from "../shared/service/context.js";
import { ElasticsearchDouble } from "../test/doubles/elasticsearch.js";
import { NdjsonReceiver } from "../test/doubles/ndjson-receiver.js";
import { SplunkHecDouble } from "../test/doubles/splunk-hec.js";
import { startTestNats } from "../test/helpers/nats.js";
import { makeLogs } from "./zeek-logs.js";

const LINES = Number(process.argv[2] ?? 200_000);
const JOB = "00000000-0000-4000-8000-000000000000";

interface Receiver {
  url: string;
  count(): number;
  stop(): Promise<void>;
}

/** Answers every request at once with `answer(body)`, counting lines with `lines(body)`: no parsing, no keeping. */
async function discard(answer: (body: string) => string, lines: (body: string) => number, gzip = false): Promise<Receiver> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = (gzip ? gunzipSync(raw) : raw).toString("utf8");
      n += lines(body);
      res.writeHead(200, { "content-type": "application/json" }).end(answer(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n, stop: () => new Promise((r) => server.close(() => r())) };
}

const newlines = (s: string): number => s.split("\n").filter(Boolean).length;
const CREATED = '{"create":{"status":201}}';

async function withPipeline(batchLines: number, fn: (ctx: ServiceContext, publish: () => Promise<void>) => Promise<void>): Promise<void> {
  const nats = await startTestNats();
  const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-sinks-"));
  const config = loadConfig({ NATS_URL: nats.url, BROCAPI_SINKS: "none", BROCAPI_BATCH_LINES: String(batchLines), BROCAPI_DATA_DIR: dir });
  const ctx = await createContext(config, pino({ level: "warn" }), nats.url, "bench");
  try {
    await fn(ctx, async () => {
      await publishLogs({ js: jetstream(ctx.nc), names: ctx.topology.names, logDir: logs.logDir, origin: { jobId: JOB, tag: "bench", pcap: "in.pcap", pcapIndex: 0, format: "tsv" }, skipped: new Set(), batchLines, window: config.worker.publishWindow });
    });
  } finally {
    await ctx.nc.drain();
    await nats.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

function instance(name: string, kind: string, options: Record<string, unknown>, routing: Partial<Pick<SinkInstance, "logs" | "tags">> = {}): SinkInstance {
  return { name, kind, baseDir: process.cwd(), options, logs: { exclude: [] }, tags: { exclude: [] }, start: "all", source: "bench", ...routing };
}

async function throughput(label: string, receiver: Receiver, make: (url: string) => SinkInstance): Promise<void> {
  await withPipeline(256, async (ctx, publish) => {
    const [resolved] = await resolveSinks([make(receiver.url)]);
    const sink = await startSinkInstance(ctx, resolved!);
    const t0 = performance.now();
    await publish();
    while (receiver.count() < logs.lines) await new Promise((r) => setTimeout(r, 10));
    const rate = Math.round(logs.lines / ((performance.now() - t0) / 1000));
    console.log(`| ${label} | ${logs.lines} | ${rate.toLocaleString("en-US")} |`);
    await sink.stop();
  });
  await receiver.stop();
}

/** A sink whose routing skips the whole job: how long until its consumer is caught up, and what it fetched. */
async function routedAway(label: string, routing: Partial<Pick<SinkInstance, "logs" | "tags">>): Promise<void> {
  await withPipeline(256, async (ctx, publish) => {
    const receiver = await new NdjsonReceiver().listen();
    const [resolved] = await resolveSinks([instance("filtering", "http", { url: receiver.url }, routing)]);
    await publish();
    const t0 = performance.now();
    const sink = await startSinkInstance(ctx, resolved!);
    const { jsm, names } = ctx.topology;
    for (;;) {
      const info = await jsm.consumers.info(names.logsStream, names.sinkConsumer("filtering"));
      if (info.num_pending === 0 && info.num_ack_pending === 0) {
        const ms = performance.now() - t0;
        console.log(`| ${label} | ${logs.lines} | ${info.delivered.consumer_seq} | ${ms.toFixed(0)} ms | ${receiver.lines.length} |`);
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await sink.stop();
    await receiver.stop();
  });
}

const work = await mkdtemp(join(tmpdir(), "brocapi-bench-"));
const logs = await makeLogs(join(work, "logs"), LINES);
const tokenFile = join(work, "token");
await writeFile(tokenFile, "bench-token");
try {
  console.log("| sink → receiver | lines | publish→delivered lines/s |");
  console.log("| --- | ---: | ---: |");
  const http = (url: string) => instance("http", "http", { url });
  const ndjson = await new NdjsonReceiver().listen();
  await throughput("http → NDJSON double", { url: ndjson.url, count: () => ndjson.lines.length, stop: () => ndjson.stop() }, http);
  await throughput("http → discard", await discard(() => "{}", newlines), http);
  await throughput("http, gzip → discard (gunzips)", await discard(() => "{}", newlines, true), (url) => instance("http", "http", { url, gzip: true }));
  const es = (url: string) => instance("es", "elasticsearch", { url });
  const esDouble = await new ElasticsearchDouble().listen();
  await throughput("elasticsearch → ES double", { url: esDouble.url, count: () => esDouble.docs.length, stop: () => esDouble.stop() }, es);
  await throughput("elasticsearch → discard", await discard((b) => `{"errors":false,"items":[${Array(newlines(b) / 2).fill(CREATED).join(",")}]}`, (b) => newlines(b) / 2), es);
  const hecDouble = await new SplunkHecDouble({ token: "bench-token" }).listen();
  const hec = (url: string) => instance("hec", "splunk-hec", { url, tokenFile });
  await throughput("splunk-hec → HEC double", { url: hecDouble.url, count: () => hecDouble.events.length, stop: () => hecDouble.stop() }, hec);
  await throughput("splunk-hec → discard", await discard(() => '{"text":"Success","code":0}', newlines), hec);
  const hecAckDouble = await new SplunkHecDouble({ token: "bench-token", ack: true }).listen();
  await throughput("splunk-hec with indexer ack (10 ms polls) → HEC double", { url: hecAckDouble.url, count: () => hecAckDouble.events.length, stop: () => hecAckDouble.stop() }, (url) =>
    instance("hec", "splunk-hec", { url, tokenFile, ack: { pollMs: 10 } }),
  );

  console.log("\n| filtering sink, job routed away | lines in the job | batches fetched | until caught up | lines delivered |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  await routedAway("subject filter (logs.include: [dns], the job is conn only)", { logs: { include: ["dns"], exclude: [] } });
  await routedAway("runner check (tags.exclude: [bench])", { tags: { exclude: ["bench"] } });
} finally {
  await rm(work, { recursive: true, force: true });
}
