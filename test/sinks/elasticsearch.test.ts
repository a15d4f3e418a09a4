import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ElasticsearchSink, elasticsearchSinkFactory } from "../../services/shipper/sinks/elasticsearch/elasticsearch-sink.js";
import { indexName } from "../../services/shipper/sinks/elasticsearch/index-name.js";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import type { LogBatch } from "../../shared/messages/log-batch.js";
import { ElasticsearchDouble } from "../doubles/elasticsearch.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";
import { sinkConformance } from "./conformance.js";
import { fromEnvelope } from "./envelope-lines.js";

let certs: TestPki;
let dir: string;
const API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
before(async () => {
  certs = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), "brocapi-es-"));
  await writeFile(join(dir, "api-key"), `${API_KEY}\n`);
});
after(() => certs?.cleanup());

/** Over HTTPS (the test's CA) with an API key: the Elasticsearch double tells repeats by `_id`. */
sinkConformance({
  name: "elasticsearch",
  factory: elasticsearchSinkFactory as SinkFactory,
  async start() {
    const es = await new ElasticsearchDouble({ authorization: `ApiKey ${API_KEY}`, tls: { keyFile: certs.serverKey, certFile: certs.serverCert } }).listen();
    return {
      options: { url: es.url, caFile: certs.caFile, auth: { type: "apiKey", apiKeyFile: join(dir, "api-key") }, timeoutMs: 1000 },
      exactlyOnce: true,
      received: async () => es.docs.map((d) => fromEnvelope(d.source)),
      outages: { refuse: () => es.refuse(), stall: () => es.stall(), fail: () => es.fail(), restore: () => es.restore() },
      stop: () => es.stop(),
    };
  },
});

const JOB = "0193f1e0-0000-7000-8000-0000000000e5";
const batch = (lines: string[], firstLine = 1): LogBatch => ({
  jobId: JOB,
  tag: "case-1",
  pcap: "a.pcap",
  pcapIndex: 0,
  logType: "conn",
  format: "json",
  zeekHeader: null,
  firstLine,
  lineCount: lines.length,
  payload: Buffer.from(lines.join("\n")),
});

test("index per log type and UTC day of ts", () => {
  const at = Date.UTC(2026, 11, 1, 23, 59, 59);
  assert.equal(indexName("zeek-{log}-{yyyy.MM.dd}", "conn", at), "zeek-conn-2026.12.01");
  assert.equal(indexName("Zeek_{log}-{yyyy-MM}-{HH}", "dns", at), "zeek_dns-2026-12-23");
});

test("bulk partial failures: only 429 items are retried, mapping errors are rejected and counted, a redelivered batch is not indexed twice", async () => {
  const es = await new ElasticsearchDouble({ authorization: `Basic ${Buffer.from("elastic:pw").toString("base64")}` }).listen();
  await writeFile(join(dir, "password"), "pw");
  const parsed = elasticsearchSinkFactory.optionsSchema.safeParse({ url: es.url, auth: { type: "basic", username: "elastic", passwordFile: join(dir, "password") } });
  assert.ok(parsed.success);
  const sink = new ElasticsearchSink(parsed.data);
  try {
    const lines = Array.from({ length: 6 }, (_, i) => `{"ts":${1796083200 + i},"uid":"C${i}","n":${i}}`);
    await sink.write(batch(lines));
    assert.deepEqual(es.indices(), ["zeek-conn-2026.12.01"]);
    assert.equal(es.docs[0]!.id, `${JOB}:0:conn:1`);
    assert.equal(es.docs[0]!.source["@timestamp"], "2026-12-01T00:00:00.000Z");
    assert.equal(JSON.stringify(es.requests[0]!.body.split("\n")[0]), JSON.stringify(`{"create":{"_index":"zeek-conn-2026.12.01","_id":"${JOB}:0:conn:1"}}`));

    // The same batch again (redelivered after a crash): 409 on every create, taken as already indexed.
    assert.equal(await sink.write(batch(lines)), undefined);
    assert.equal(es.docs.length, 6);

    // Next batch: its first 2 items refused for load (429); the first of them also has a field of the wrong type (400 on retry).
    es.rejectNext = 2;
    const next = [`{"ts":1796083300,"uid":"D0","n":"not a number"}`, `{"ts":1796083301,"uid":"D1","n":1}`, `{"ts":1796083302,"uid":"D2","n":2}`, `{"ts":1796083303,"uid":"D3","n":3}`];
    await assert.rejects(sink.write(batch(next, 7)), /2 documents not indexed yet \(429 es_rejected_execution_exception/);
    const before = es.requests.length;
    const result = await sink.write(batch(next, 7));
    assert.equal(es.requests.length, before + 1);
    assert.equal(es.requests.at(-1)!.body.split("\n").filter(Boolean).length, 4, "the retry sends only the 2 documents that were refused for load");
    assert.ok(result && result.rejected === 1, "the mapping error counted once, not retried");
    assert.match(result.reason, /document 0193f1e0-0000-7000-8000-0000000000e5:0:conn:7 rejected: 400 mapper_parsing_exception: failed to parse field \[n\] of type \[number\]/);
    assert.deepEqual(es.docs.map((d) => d.source.uid).slice(6).sort(), ["D1", "D2", "D3"]);
  } finally {
    await sink.close();
    await es.stop();
  }
});

test("wrong credentials: 401 is retried in place (shown as the error), never dropped", async () => {
  const es = await new ElasticsearchDouble({ authorization: "ApiKey right" }).listen();
  await writeFile(join(dir, "wrong-key"), "wrong");
  const parsed = elasticsearchSinkFactory.optionsSchema.safeParse({ url: es.url, auth: { type: "apiKey", apiKeyFile: join(dir, "wrong-key") } });
  assert.ok(parsed.success);
  const sink = new ElasticsearchSink(parsed.data);
  await assert.rejects(sink.write(batch(['{"ts":1}'])), /401 .*security_exception/);
  await sink.close();
  await es.stop();
});
