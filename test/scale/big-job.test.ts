import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import type { CapturePage } from "../../shared/jobs/job-status.js";
import { runBigJob, startScaleStack, writeCaptures, type ScaleStack } from "../helpers/big-job.js";
import { eventually } from "../helpers/stack.js";

// One job of many captures of one connection each, through api, worker and shipper processes
// (test/helpers/big-job.ts). In `npm test` 1,000 captures, the largest size seen passing within
// the suite's time budget (CI runs it on two Node versions, on Node 24 at 600: still two pages
// of 500 and 8 record shards); BIG_JOB_CAPTURES=10000 runs BROCAPI_MAX_FILES' default, as
// `npm run bench -- big-job` does.
const CAPTURES = Number(process.env.BIG_JOB_CAPTURES ?? 1_000);
const KV_VALUE_MAX = 64 * 1024;
/** The upload is streamed: the api's memory does not grow with the number of files. */
const UPLOAD_GROWTH_MAX_MB = 100;

let stack: ScaleStack;

before(async () => {
  stack = await startScaleStack();
});

after(async () => {
  await stack?.stop();
});

/**
 * Sizes of every value a KV bucket's stream holds, read once with an ordered consumer up to the
 * stream's last sequence when the read began. (Waiting for `pending` to reach 0 instead never
 * ended in a 10,000-capture run: the shipper's audit keeps writing to the buckets.)
 */
async function valueSizes(bucket: string): Promise<number[]> {
  const stream = `KV_${bucket}`;
  const info = await stack.jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const last = info.state.last_seq;
  const consumer = await jetstream(stack.nc).consumers.get(stream);
  const sizes: number[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    sizes.push(m.data.length);
    if (m.seq >= last) break;
  }
  await messages.close();
  return sizes;
}

test(`one job of ${CAPTURES} captures ends done, every line in the directory sink once, every KV value small`, async (t) => {
  const { api, names } = stack;
  const run = await runBigJob(stack, await writeCaptures(stack.dir, CAPTURES));
  const { job, jobId } = run;
  assert.equal(job.state, "done");
  assert.deepEqual(job.counts, { total: CAPTURES, queued: 0, running: 0, done: CAPTURES, failed: 0 });
  assert.equal(job.lines["conn"], CAPTURES, "one conn line per capture");
  assert.equal(job.files.length, 20, "the first page of captures");
  assert.equal(job.next_cursor, "20");
  assert.ok(run.apiRssUploadMb - run.apiRssBeforeMb < UPLOAD_GROWTH_MAX_MB, `api RSS ${run.apiRssBeforeMb.toFixed(0)} MB before the upload, ${run.apiRssUploadMb.toFixed(0)} MB at most during it`);

  // Every line at the directory sink exactly once (each capture's line is its own), counted by the sink too.
  assert.equal(run.delivered.length, CAPTURES);
  assert.equal(new Set(run.delivered).size, CAPTURES, "no line written twice");
  const lines = Object.values(job.lines).reduce((a, b) => a + b, 0);
  const sinkCount = async (): Promise<number | undefined> => ((await (await fetch(`${api.url}/jobs/${jobId}`)).json()) as typeof job).sinks["directory"]?.lines;
  await eventually(async () => (await sinkCount()) === lines, 30_000, `the directory sink's count to reach ${lines} lines`, 500);
  assert.equal(await sinkCount(), lines, "the sink's count");

  // Paging: every capture once, in order; filters answer from the index.
  const seen: number[] = [];
  for (let cursor: string | null = "0"; cursor !== null; ) {
    const page = (await (await fetch(`${api.url}/jobs/${jobId}/captures?limit=500&cursor=${cursor}`)).json()) as CapturePage;
    seen.push(...page.captures.map((c) => c.index));
    assert.ok(page.captures.every((c) => c.state === "done" && c.analysedBy?.pid), "state and who analysed it");
    cursor = page.next_cursor;
  }
  assert.deepEqual(seen, [...Array(CAPTURES).keys()]);
  const failed = (await (await fetch(`${api.url}/jobs/${jobId}/captures?state=failed`)).json()) as CapturePage;
  assert.deepEqual(failed, { job_id: jobId, captures: [], next_cursor: null, remaining: 0 });
  const last = `cap${String(CAPTURES - 1).padStart(5, "0")}`.slice(0, -1);
  let named: string[] = [];
  for (let cursor: string | null = "0"; cursor !== null; ) {
    const page = (await (await fetch(`${api.url}/jobs/${jobId}/captures?prefix=${last}&cursor=${cursor}`)).json()) as CapturePage;
    named = named.concat(page.captures.map((c) => c.name));
    cursor = page.next_cursor;
  }
  assert.equal(named.length, Math.min(10, CAPTURES));
  assert.ok(named.every((n) => n.startsWith(last)));

  // The record stays small: the summary does not grow with the job, and no value is large.
  const summaryBytes = Buffer.byteLength(JSON.stringify({ ...job, files: [] }));
  assert.ok(summaryBytes < KV_VALUE_MAX, `status summary ${summaryBytes} bytes`);
  const sizes = [...(await valueSizes(names.jobsBucket)), ...(await valueSizes(names.sinksBucket)), ...(await valueSizes(names.analysesBucket))];
  const biggest = Math.max(...sizes);
  assert.ok(biggest < KV_VALUE_MAX, `largest KV value ${biggest} bytes`);
  const header = await stack.jsm.direct.getMessage(`KV_${names.jobsBucket}`, { last_by_subj: `$KV.${names.jobsBucket}.${jobId}` });
  assert.ok(header && header.data.length < 1024, `the job's own key is ${header?.data.length} bytes`);
  const cpu = Object.entries(run.cpu).map(([k, s]) => `${k} ${s.toFixed(1)}`).join(", ");
  t.diagnostic(
    `${CAPTURES} captures: upload ${run.uploadS.toFixed(1)} s, analysed ${run.analysedS.toFixed(1)} s (${Math.round(CAPTURES / run.analysedS)} captures/s), ` +
      `delivered +${run.deliveredS.toFixed(1)} s; CPU s: ${cpu}; zeek runs ${stack.zeek.runs}; largest KV value ${biggest} bytes, status ${summaryBytes} bytes`,
  );
});
