import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import { hecOutcome } from "../../services/shipper/sinks/splunk-hec/hec-response.js";
import { SplunkHecSink, splunkHecSinkFactory } from "../../services/shipper/sinks/splunk-hec/splunk-hec-sink.js";
import type { LogBatch } from "../../shared/messages/log-batch.js";
import { SplunkHecDouble } from "../doubles/splunk-hec.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";
import { sinkConformance } from "./conformance.js";
import { fromEnvelope } from "./envelope-lines.js";

const TOKEN = "9f8e7d6c-5b4a-4321-8fed-cba987654321";
let certs: TestPki;
let dir: string;
before(async () => {
  certs = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), "brocapi-hec-"));
  await writeFile(join(dir, "token"), `${TOKEN}\n`);
});
after(() => certs?.cleanup());

/** Over HTTPS with indexer acknowledgement: events count only once Splunk acknowledged them. HEC has no ids, so repeats are allowed. */
sinkConformance({
  name: "splunk-hec",
  factory: splunkHecSinkFactory as SinkFactory,
  async start() {
    const hec = await new SplunkHecDouble({ token: TOKEN, ack: true, ackAfterPolls: 2, tls: { keyFile: certs.serverKey, certFile: certs.serverCert } }).listen();
    return {
      options: { url: hec.url, tokenFile: join(dir, "token"), caFile: certs.caFile, timeoutMs: 1000, ack: { pollMs: 20, timeoutMs: 2000 } },
      exactlyOnce: false,
      received: async () => hec.events.map((e) => fromEnvelope(e.event as Record<string, unknown>)),
      outages: { refuse: () => hec.refuse(), stall: () => hec.stall(), fail: () => hec.fail(), restore: () => hec.restore() },
      stop: () => hec.stop(),
    };
  },
});

const batch = (lines: string[], tag: string | null = "case-9"): LogBatch => ({
  jobId: "0193f1e0-0000-7000-8000-00000000005e",
  tag,
  pcap: "a.pcap",
  pcapIndex: 0,
  logType: "dns",
  format: "json",
  zeekHeader: null,
  firstLine: 1,
  lineCount: lines.length,
  payload: Buffer.from(lines.join("\n")),
});

function sink(url: string, extra: Record<string, unknown> = {}): SplunkHecSink {
  const parsed = splunkHecSinkFactory.optionsSchema.safeParse({ url, tokenFile: join(dir, "token"), ...extra });
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues));
  return new SplunkHecSink(parsed.data);
}

test("HEC events: time from ts, host = tag, sourcetype per log type as the Zeek add-on names them, index and source", async () => {
  const hec = await new SplunkHecDouble({ token: TOKEN, indexes: ["zeek"] }).listen();
  const s = sink(hec.url, { index: "zeek" });
  try {
    await s.write(batch(['{"ts":1796083200.123456,"uid":"C1","query":"example.com"}', '{"uid":"C2"}']));
    const [first, second] = hec.events;
    assert.equal(first!.time, 1796083200.123456);
    assert.equal(first!.host, "case-9");
    assert.equal(first!.sourcetype, "bro:dns:json");
    assert.equal(first!.source, "brocapi");
    assert.equal(first!.index, "zeek");
    assert.deepEqual(first!.event, { brocapi: { job: "0193f1e0-0000-7000-8000-00000000005e", tag: "case-9", capture: "a.pcap", captureIndex: 0, log: "dns" }, ts: 1796083200.123456, uid: "C1", query: "example.com" });
    assert.equal(typeof second!.time, "number", "a line without ts gets the time it was sent");
    assert.equal(hec.requests[0]!.headers.authorization, `Splunk ${TOKEN}`, "the token file without its newline");
    await s.write(batch(['{"ts":1}'], null));
    assert.equal(hec.events[2]!.host, "brocapi", "a job without a tag");
  } finally {
    await s.close();
    await hec.stop();
  }
});

test("HEC error codes: a wrong token or index is retried in place; busy is retried; refused data is rejected", async () => {
  const hec = await new SplunkHecDouble({ token: "another-token" }).listen();
  const s = sink(hec.url);
  await assert.rejects(s.write(batch(["{}"])), /403 code 4 Invalid token/);
  await s.close();
  await hec.stop();
  const hec2 = await new SplunkHecDouble({ token: TOKEN, indexes: ["main"] }).listen();
  const s2 = sink(hec2.url, { index: "nope" });
  await assert.rejects(s2.write(batch(["{}"])), /400 code 7 Incorrect index/);
  await hec2.fail();
  await assert.rejects(s2.write(batch(["{}"])), /503 code 9 Server is busy/);
  await s2.close();
  await hec2.stop();
  assert.equal(hecOutcome(6, 400), "rejected");
  assert.equal(hecOutcome(12, 400), "rejected");
  assert.equal(hecOutcome(8, 500), "retry");
  assert.equal(hecOutcome(10, 400), "settings");
  assert.equal(hecOutcome(14, 400), "settings");
});

test("indexer acknowledgement: the write resolves only once Splunk acknowledged; a lost acknowledgement sends the batch again", async () => {
  const hec = await new SplunkHecDouble({ token: TOKEN, ack: true, ackAfterPolls: 3 }).listen();
  const s = sink(hec.url, { ack: { pollMs: 10, timeoutMs: 300 } });
  try {
    await s.write(batch(['{"ts":1,"uid":"A"}']));
    assert.equal(hec.events.length, 1, "indexed before the write resolved");
    const polls = hec.requests.filter((r) => r.path === "/services/collector/ack");
    assert.equal(polls.length, 3);
    assert.ok(polls.every((p) => /^[0-9a-f-]{36}$/.test(String(p.headers["x-splunk-request-channel"]))), "a channel on every request");
    hec.loseNextAck = true;
    await assert.rejects(s.write(batch(['{"ts":2,"uid":"B"}'])), /ackId 1 not acknowledged within 300 ms/);
    assert.equal(hec.events.length, 1, "the lost batch is not counted as indexed");
    await s.write(batch(['{"ts":2,"uid":"B"}']));
    assert.deepEqual(hec.events.map((e) => (e.event as { uid: string }).uid), ["A", "B"]);
  } finally {
    await s.close();
    await hec.stop();
  }
  // Acknowledgement asked for, but off on the server.
  const off = await new SplunkHecDouble({ token: TOKEN }).listen();
  const s3 = sink(off.url, { ack: {} });
  await assert.rejects(s3.write(batch(["{}"])), /no ackId in the answer/);
  await s3.close();
  await off.stop();
});
