import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Objm } from "@nats-io/obj";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames, type Names } from "../../shared/nats/names.js";
import { memoryMb, sampleRss } from "../helpers/big-capture.js";
import { writeCaptures } from "../helpers/big-job.js";
import { startTestNats, type TestNats } from "../helpers/nats.js";
import { ServiceProcesses, type ServiceProcess } from "../helpers/processes.js";
import { submit } from "../helpers/submit.js";

// One request of BROCAPI_MAX_FILES' default, 10,000 small captures, to an api process alone: no
// worker, so what is measured is the upload and the queuing of its job, not its analysis (the
// whole job end to end is big-job.test.ts, at 1,000 in `npm test`); then the job is deleted. One
// file more than the limit is refused by bad-input.test.ts (limit 3): sending 10,001 here would
// double the test's time for the same code path. UPLOAD_MANY_FILES sets the size (CI's second
// Node pass uses 1,000: the memory bound is judged on Node 20 only, below).
const MAX_FILES = 10_000;
const FILES = Number(process.env.UPLOAD_MANY_FILES ?? MAX_FILES);
/**
 * The api's resident memory may grow by this much during the upload, asserted on Node 20: +70 to
 * +79 MB on the 2-core dev VM (2026-12-02), and +137 to +158 MB before the form parser was held
 * to the stores (services/api/upload/read-ahead.ts). Node 24 is not held to it: its V8 grows the
 * young generation to 2 × 64 MiB at an upload's allocation rate, read-ahead or not (+157 to +200
 * MB either way, docs/BENCHMARKS.md); its growth is reported, not judged.
 */
const RSS_GROWTH_MAX_MB = 110;
const RSS_ASSERTED = process.versions.node.startsWith("20.");

let dir: string;
let nats: TestNats;
let procs: ServiceProcesses;
let api: ServiceProcess;
let nc: NatsConnection;
let names: Names;
let captures: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-many-"));
  nats = await startTestNats();
  const prefix = `m${Math.random().toString(36).slice(2, 8)}`;
  names = natsNames(prefix);
  procs = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_NATS_PREFIX: prefix, BROCAPI_DATA_DIR: dir });
  api = await procs.start("api");
  nc = await connect({ servers: nats.url });
  captures = await writeCaptures(dir, FILES);
});

after(async () => {
  await procs?.stopAll();
  await nc?.close();
  await nats?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The captures a job left in the object store (deleted ones leave only a marker). */
async function objectsOf(jobId: string): Promise<string[]> {
  const pcaps = await new Objm(nc).open(names.pcapsBucket);
  return (await pcaps.list()).filter((o) => !o.deleted && o.name.startsWith(`${jobId}/`)).map((o) => o.name);
}

test(`one upload of ${FILES} captures (BROCAPI_MAX_FILES: ${MAX_FILES}) is taken whole with flat memory, and deleted leaves nothing`, async (t) => {
  const before = (await memoryMb(api.pid)).rss;
  const rss = sampleRss(api.pid, 200);
  let peak = 0;
  const { httpStatus, body } = await submit(api.url, captures, "many").finally(async () => (peak = await rss.stop()));
  assert.equal(httpStatus, 200, body.status);
  assert.equal(body.files.length, FILES);
  assert.equal(body.files.at(-1), `cap${String(FILES - 1).padStart(5, "0")}.pcap`);
  const job = (await (await fetch(`${api.url}/jobs/${body.job_id}`)).json()) as { counts: { total: number; queued: number } };
  assert.deepEqual([job.counts.total, job.counts.queued], [FILES, FILES], "every capture queued");
  assert.equal((await objectsOf(body.job_id)).length, FILES);
  const growth = peak - before;
  t.diagnostic(`api RSS ${before.toFixed(0)} MB before the upload of ${FILES} files, ${peak.toFixed(0)} MB at most during it (+${growth.toFixed(0)} MB), Node ${process.versions.node}`);
  if (RSS_ASSERTED && FILES === MAX_FILES) assert.ok(growth < RSS_GROWTH_MAX_MB, `api RSS grew by ${growth.toFixed(0)} MB during the upload (at most ${RSS_GROWTH_MAX_MB})`);

  assert.equal((await fetch(`${api.url}/jobs/${body.job_id}`, { method: "DELETE" })).status, 200);
  assert.deepEqual(await objectsOf(body.job_id), [], "the deleted job's captures are gone");
  assert.equal((await fetch(`${api.url}/jobs/${body.job_id}`)).status, 404, "no job record");
});
