// A batch NATS hands out again after its count was saved but its ack was lost (a nats-server
// restart between the two) reaches the directory sink twice. Its index knows the batch: nothing is
// written, and the runner must ack it without counting it again, so `sinks.<name>.lines` and
// `brocapi_lines_delivered_total` stay the lines in the files (test/faults/nats-restart.test.ts
// shows the same end to end, but only when the restart hits that window).

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { startSinkInstance } from "../../services/shipper/shipper.js";
import { directorySinkFactory } from "../../services/shipper/sinks/directory/directory-sink.js";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import { loadConfig } from "../../shared/config/load.js";
import type { SinkInstance } from "../../shared/config/sink-instance.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { batchHeaders, batchMsgId, type LogBatch } from "../../shared/messages/log-batch.js";
import { metrics } from "../../shared/metrics/registry.js";
import { createContext } from "../../shared/service/context.js";
import { directoryDataLines, metricValue } from "../helpers/job-counts.js";
import { startTestNats } from "../helpers/nats.js";
import { eventually } from "../helpers/stack.js";

const HEADER = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn", "#open\t2026-12-01-10-00-00", "#fields\tts\tmsg", "#types\ttime\tstring"];

test("directory sink: a batch delivered again (ack lost) is acked without being counted or written twice", { timeout: 60_000 }, async () => {
  const nats = await startTestNats();
  const base = await mkdtemp(join(tmpdir(), "brocapi-dir-redeliver-"));
  const root = join(base, "logs");
  const name = `redeliver-${Math.random().toString(36).slice(2, 8)}`;
  const config = loadConfig({ NATS_URL: nats.url, BROCAPI_NATS_PREFIX: `r${Math.random().toString(36).slice(2, 10)}`, BROCAPI_SINKS: "none" });
  const ctx = await createContext(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), nats.url, "redelivery");
  const instance: SinkInstance = { name, kind: "directory", baseDir: process.cwd(), options: { root }, logs: { exclude: [] }, tags: { exclude: [] }, format: "as-written", start: "all", source: "test" };
  const running = await startSinkInstance(ctx, { instance, factory: directorySinkFactory as SinkFactory, options: { root }, format: "as-written" });
  const js = jetstream(ctx.nc);
  const store = new SinkProgressStore(ctx.topology.sinks);
  const jobId = randomUUID();
  const metric = async (): Promise<number> => metricValue(await metrics.render(), `brocapi_lines_delivered_total{sink="${name}"}`);
  /** Lines [first, first + count) of capture 0's conn log, as one batch; `again` publishes it as a new message (no dedup id), as a redelivery arrives. */
  const publish = async (first: number, count: number, again = false): Promise<void> => {
    const meta: Omit<LogBatch, "payload"> = { jobId, tag: "redelivery", pcap: "capture-0.pcap", pcapIndex: 0, logType: "conn", format: "tsv", zeekHeader: HEADER, firstLine: first, lineCount: count };
    const lines = Array.from({ length: count }, (_, i) => `${1764583200 + first + i}.000000\tline ${first + i}`);
    await js.publish(ctx.topology.names.logSubject("conn", jobId), Buffer.from(lines.join("\n")), { headers: batchHeaders(meta), ...(again ? {} : { msgID: batchMsgId(meta) }) });
  };
  const counted = async (): Promise<number> => (await store.ofJob(jobId))[name]?.lines ?? 0;
  try {
    await publish(1, 50);
    await publish(51, 50);
    await eventually(async () => (await counted()) >= 100, 20_000, "the first 100 lines counted");
    const metricBefore = await metric();
    // The same two batches again, then a new one: taken in stream order, so once the new one is
    // counted the repeats have been through the runner (and a count of them would be in).
    await publish(1, 50, true);
    await publish(51, 50, true);
    await publish(101, 20);
    await eventually(async () => (await counted()) >= 120, 20_000, "the new batch counted");
    assert.equal(await directoryDataLines(root, jobId), 120, "the repeats were not written again");
    assert.equal(await counted(), 120, "sinks.<name>.lines counts the repeated batches once");
    assert.equal((await metric()) - metricBefore, 20, "brocapi_lines_delivered_total does not count the repeats");
  } finally {
    await running.stop();
    await ctx.nc.drain();
    await nats.cleanup();
    await rm(base, { recursive: true, force: true });
  }
});
