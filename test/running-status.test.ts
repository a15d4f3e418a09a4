import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { newJobId } from "../shared/jobs/job-id.js";
import type { FileRecord } from "../shared/jobs/job-record.js";
import { shardCount } from "../shared/jobs/job-shards.js";
import type { JobStatus } from "../shared/jobs/job-status.js";
import { FIRST_PAGE } from "../shared/jobs/job-status-schema.js";
import { JobStore } from "../shared/jobs/job-store.js";
import { statusReads } from "./helpers/big-job.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// An unfinished job's status (issue 13): its shards and first captures are read once per
// http.statusMaxAgeMs and shared by every status read of the job in that time; its header is
// read by every request, so a job that ended is seen final at once. The period here is longer
// than this file runs: every read after the first shares that one, however slow the machine.

let nats: TestNats;
let stack: Stack;
let watcher: NatsConnection;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_STATUS_MAX_AGE_MS: "600000" } });
  watcher = await connect({ servers: nats.url });
});

after(async () => {
  delete process.env.ZEEK_DOUBLE_DELAY_MS;
  await watcher?.close();
  await stack?.stop();
  await nats?.cleanup();
});

const getStatus = async (id: string, query = ""): Promise<JobStatus> => {
  const res = await fetch(`${stack.url}/jobs/${id}${query}`);
  assert.equal(res.status, 200);
  return (await res.json()) as JobStatus;
};

/**
 * Reads of a job's keys in the jobs bucket, counted from the side: a KV get is a request to
 * `$JS.API.DIRECT.GET.<stream>.<key's subject>` (a miss is asked again of the stream leader).
 */
async function countReads(jobId: string): Promise<{ header: number; shards: number; captures: number; leader: number }> {
  const bucket = stack.ctx.topology.names.jobsBucket;
  const key = `$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${jobId}`;
  const seen = { header: 0, shards: 0, captures: 0, leader: 0 };
  watcher.subscribe(key, { callback: () => void seen.header++ });
  watcher.subscribe(`${key}.s.*`, { callback: () => void seen.shards++ });
  watcher.subscribe(`${key}.c.*`, { callback: () => void seen.captures++ });
  watcher.subscribe(`$JS.API.STREAM.MSG.GET.KV_${bucket}`, { callback: (_, m) => void (m.string().includes(jobId) && seen.leader++) });
  await watcher.flush();
  return seen;
}

test("a running job's status reads its header per request, and its shards and first page once for all readers", async () => {
  const captures = 1_000;
  const id = newJobId();
  const jobs = new JobStore(stack.ctx.topology);
  const now = new Date().toISOString();
  // A job made as a submission makes it, but with no task queued (nothing else touches it), then
  // moved on as a worker moves it: 30 captures started, 10 of them done.
  const files: FileRecord[] = Array.from({ length: captures }, (_, index) => ({ index, name: `c${index}.pcap`, object: `${id}/${index}`, size: 24, sha256: "0".repeat(64), state: "queued", attempts: 0, lines: {} }));
  await jobs.createCaptures(id, files);
  await jobs.createHeader({ layout: 2, id, tag: null, state: "queued", format: "tsv", submittedAt: now, files: captures, shards: shardCount(captures) });
  for (let i = 0; i < 30; i++) await jobs.updateCapture(id, i, (f) => Object.assign(f, { state: "running", attempts: 1, startedAt: now }), { files: captures });
  for (let i = 0; i < 10; i++) await jobs.updateCapture(id, i, (f) => Object.assign(f, { state: "done", finishedAt: now, lines: { conn: 2 } }), { files: captures });

  const seen = await countReads(id);
  const requests = 300;
  const reads = await statusReads(`${stack.url}/jobs/${id}`, requests, 100);
  assert.equal(reads.failed, 0);
  await watcher.flush();
  // Without sharing: 300 × (1 + 8 shards + 20 captures) = 8,700 reads, growing with the shards (up to 64).
  assert.deepEqual(seen, { header: requests, shards: shardCount(captures), captures: FIRST_PAGE, leader: 0 }, "one header read per request, the rest once");

  const status = await getStatus(id);
  assert.equal(status.state, "running");
  assert.deepEqual(status.counts, { total: captures, queued: 970, running: 20, done: 10, failed: 0 });
  assert.deepEqual(status.lines, { conn: 20 });
  assert.deepEqual(
    status.files.map((f) => f.state),
    [...Array(10).fill("done"), ...Array(10).fill("running")],
  );
  // A shorter page is the shared one cut; a longer one reads the captures past it.
  assert.deepEqual((await getStatus(id, "?limit=5")).files.map((f) => f.index), [0, 1, 2, 3, 4]);
  const long = await getStatus(id, "?limit=40");
  assert.deepEqual(long.files.map((f) => f.index), [...Array(40).keys()]);
  assert.deepEqual(long.files.slice(20).map((f) => f.state), [...Array(10).fill("running"), ...Array(10).fill("queued")]);
  await watcher.flush();
  assert.deepEqual(seen, { header: requests + 3, shards: shardCount(captures), captures: FIRST_PAGE + 20, leader: 0 });
});

test("a client that heard job.finished reads the job final, though the api keeps the job's unfinished progress", async () => {
  // A slower Zeek keeps the job unfinished while its status is read first.
  process.env.ZEEK_DOUBLE_DELAY_MS = "1000";
  const pcaps = [join(stack.dataDir, "a.pcap"), join(stack.dataDir, "b.pcap")];
  await writeSyntheticPcap(pcaps[0]!, { flows: 3, seed: 5 });
  await writeSyntheticPcap(pcaps[1]!, { flows: 4, seed: 6 });
  const { body } = await submit(stack.url, pcaps, "finish");
  const early = await getStatus(body.job_id);
  assert.ok(early.state === "queued" || early.state === "running", `read before the job ended (${early.state})`);

  // The event stream ends with job.finished, published once the header is final.
  const events = await (await fetch(`${stack.url}/jobs/${body.job_id}/events`)).text();
  assert.match(events, /event: job\.finished\n/);
  const final = await getStatus(body.job_id);
  assert.equal(final.state, "done");
  assert.deepEqual(final.counts, { total: 2, queued: 0, running: 0, done: 2, failed: 0 });
  assert.deepEqual(final.files.map((f) => f.state), ["done", "done"]);
  assert.equal(final.lines["conn"], (final.files[0]!.lines["conn"] ?? 0) + (final.files[1]!.lines["conn"] ?? 0));
  assert.ok(final.lines["conn"]! > 0);
  assert.ok(final.finishedAt);
});
