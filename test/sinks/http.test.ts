import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { resolveSinks } from "../../services/shipper/resolve-sinks.js";
import { startSinkInstance } from "../../services/shipper/shipper.js";
import { loadConfig } from "../../shared/config/load.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { batchHeaders, batchMsgId } from "../../shared/messages/log-batch.js";
import { metrics } from "../../shared/metrics/registry.js";
import { createContext } from "../../shared/service/context.js";
import { startTestNats } from "../helpers/nats.js";
import { HttpSink, httpSinkFactory } from "../../services/shipper/sinks/http/http-sink.js";
import { SinkUnavailableError } from "../../services/shipper/sinks/http-client/http-post.js";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import type { LogBatch } from "../../shared/messages/log-batch.js";
import { NdjsonReceiver } from "../doubles/ndjson-receiver.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";
import { sinkConformance } from "./conformance.js";
import { fromEnvelope } from "./envelope-lines.js";

/** The http sink into the NDJSON receiver double (which drops a batch id it already took: exactly once). */
sinkConformance({
  name: "http",
  factory: httpSinkFactory as SinkFactory,
  async start() {
    const receiver = await new NdjsonReceiver().listen();
    return {
      options: { url: `${receiver.url}/ingest`, timeoutMs: 1000, gzip: true },
      exactlyOnce: true,
      received: async () => receiver.lines.map(fromEnvelope),
      outages: { refuse: () => receiver.refuse(), stall: () => receiver.stall(), fail: () => receiver.fail(), restore: () => receiver.restore() },
      stop: () => receiver.stop(),
    };
  },
});

let certs: TestPki;
let dir: string;
before(async () => {
  certs = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), "brocapi-http-sink-"));
});
after(() => certs?.cleanup());

const batch = (lines: string[]): LogBatch => ({
  jobId: "0193f1e0-0000-7000-8000-000000000001",
  tag: "case-7",
  pcap: "a.pcap",
  pcapIndex: 0,
  logType: "conn",
  format: "json",
  zeekHeader: null,
  firstLine: 1,
  lineCount: lines.length,
  payload: Buffer.from(lines.join("\n")),
});

test("http sink: TLS with a CA file, basic auth and headers from files, gzip, the envelope; statuses decide retry or rejection", async () => {
  const receiver = await new NdjsonReceiver({ keyFile: certs.serverKey, certFile: certs.serverCert }).listen();
  await writeFile(join(dir, "password"), "s3cret\n");
  await writeFile(join(dir, "tenant"), "acme\n");
  const options = httpSinkFactory.optionsSchema.safeParse({
    url: `${receiver.url.replace("127.0.0.1", "localhost")}/in?x=1`,
    gzip: true,
    caFile: certs.caFile,
    auth: { type: "basic", username: "zeek", passwordFile: join(dir, "password") },
    headers: { "x-source": "brocapi" },
    headersFromFiles: { "x-tenant": join(dir, "tenant") },
  });
  assert.ok(options.success);
  const sink = new HttpSink(options.data);
  try {
    assert.equal(await sink.write(batch(['{"ts":1.5,"uid":"C1"}', '{"ts":2.5,"uid":"C2"}'])), undefined);
    const req = receiver.requests[0]!;
    assert.equal(req.path, "/in");
    assert.equal(req.headers["content-encoding"], "gzip");
    assert.equal(req.headers["content-type"], "application/x-ndjson");
    assert.equal(req.headers.authorization, `Basic ${Buffer.from("zeek:s3cret").toString("base64")}`, "the password file without its newline");
    assert.equal(req.headers["x-tenant"], "acme");
    assert.equal(req.headers["x-source"], "brocapi");
    assert.equal(req.headers["x-brocapi-batch"], "log:0193f1e0-0000-7000-8000-000000000001:0:conn:1");
    assert.deepEqual(receiver.lines[0], { brocapi: { job: "0193f1e0-0000-7000-8000-000000000001", tag: "case-7", capture: "a.pcap", captureIndex: 0, log: "conn" }, ts: 1.5, uid: "C1" });

    receiver.next = { status: 429, headers: { "retry-after": "7" }, times: 1 };
    await assert.rejects(sink.write(batch(["{}"])), (err: unknown) => err instanceof SinkUnavailableError && err.retryAfterMs === 7000 && /429/.test(err.message));
    receiver.next = { status: 503, times: 1 };
    await assert.rejects(sink.write(batch(["{}"])), SinkUnavailableError);
    receiver.next = { status: 401, times: 1 };
    await assert.rejects(sink.write(batch(["{}"])), /401/, "wrong credentials: retried in place, not dropped");
    receiver.next = { status: 400, times: 1 };
    assert.deepEqual(await sink.write(batch(["{}", "{}", "{}"])), { rejected: 3, reason: 'http https://localhost:' + receiver.port + '/in?x=1: 400 {"error":"status 400 from the test"}' });
  } finally {
    await sink.close();
    await receiver.stop();
  }
  // Without the CA file the server's certificate is not trusted.
  const untrusted = await new NdjsonReceiver({ keyFile: certs.serverKey, certFile: certs.serverCert }).listen();
  const parsed = httpSinkFactory.optionsSchema.safeParse({ url: untrusted.url });
  assert.ok(parsed.success);
  const plain = new HttpSink(parsed.data);
  await assert.rejects(plain.write(batch(["{}"])), /self-signed|unable to verify|certificate/i);
  await plain.close();
  await untrusted.stop();
});

test("http sink options: a missing secret file and a bad URL stop start-up", () => {
  const r = httpSinkFactory.optionsSchema.safeParse({ url: "ftp://x", auth: { type: "bearer", tokenFile: "/nonexistent/token" } });
  assert.ok(!r.success);
  const messages = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
  assert.match(messages, /^url: /m);
  assert.match(messages, /auth\.tokenFile: cannot read the token file/);
});

test("a batch the receiver refuses (400) is counted as rejected on the job with the reason, and in metrics; the next batch goes on", async () => {
  const nats = await startTestNats();
  const receiver = await new NdjsonReceiver().listen();
  const config = loadConfig({ NATS_URL: nats.url, BROCAPI_NATS_PREFIX: `r${Math.random().toString(36).slice(2, 9)}`, BROCAPI_SINKS: "none" });
  const ctx = await createContext(config, pino({ level: "silent" }), nats.url, "test");
  const [resolved] = await resolveSinks([{ name: "hook", kind: "http", baseDir: dir, options: { url: receiver.url }, logs: { exclude: [] }, tags: { exclude: [] }, start: "all", source: "test" }]);
  const running = await startSinkInstance(ctx, resolved!);
  try {
    receiver.next = { status: 400, times: 1 };
    const js = jetstream(ctx.nc);
    for (const [firstLine, lines] of [[1, ['{"uid":"A"}', '{"uid":"B"}']], [3, ['{"uid":"C"}']]] as const) {
      const meta = { ...batch([...lines]), firstLine };
      await js.publish(ctx.topology.names.logSubject("conn", meta.jobId), meta.payload, { headers: batchHeaders(meta), msgID: batchMsgId(meta) });
    }
    const store = new SinkProgressStore(ctx.topology.sinks);
    for (let i = 0; i < 200 && (await store.ofJob(batch([]).jobId)).hook?.lines !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    const record = (await store.ofJob(batch([]).jobId)).hook!;
    assert.deepEqual([record.lines, record.rejected], [1, 2], "two lines rejected, the next batch delivered");
    assert.match(record.lastError!, /^http http:\/\/127\.0\.0\.1:\d+\/?: 400 /);
    assert.deepEqual(receiver.lines.map((l) => l.uid), ["C"]);
    assert.match(await metrics.render(), /brocapi_sink_errors_total\{sink="hook",stage="rejected"\} 1/);
  } finally {
    await running.stop();
    await ctx.nc.drain();
    await receiver.stop();
    await nats.cleanup();
  }
});
