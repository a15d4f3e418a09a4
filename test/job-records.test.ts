import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { JobStatus } from "../shared/jobs/job-status.js";
import { applyToShard, emptyShard, indexesInStates, shardCount, shardOf, sumShards } from "../shared/jobs/job-shards.js";
import type { FileRecord } from "../shared/jobs/job-record.js";
import { JobStore } from "../shared/jobs/job-store.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
const PREFIX = `m${Math.random().toString(36).slice(2, 8)}`;
const stacks: Stack[] = [];

before(async () => {
  nats = await startTestNats();
});

after(async () => {
  for (const s of stacks) await s.stop();
  await nats?.cleanup();
});

const file = (index: number, state: FileRecord["state"], lines: Record<string, number> = {}): FileRecord => ({
  index,
  name: `c${index}.pcap`,
  object: `x/${index}`,
  size: 100,
  sha256: "0".repeat(64),
  state,
  attempts: state === "queued" ? 0 : 1,
  lines,
});

test("shards: S grows with the job but stays bounded; a final state is kept and its lines added once", () => {
  assert.deepEqual([1, 5, 100, 2_048, 10_000, 100_000].map(shardCount), [1, 5, 8, 8, 40, 64]);
  const s = shardCount(10_000);
  assert.ok(emptyShard(10_000, s, 0).states.length <= 256, "a shard of the 10,000-capture job holds at most 256 states");
  let shard = emptyShard(3, 1, 0);
  const done = { ...file(1, "done", { conn: 5 }), finishedAt: "2026-01-01T00:00:01Z" };
  shard = applyToShard(shard, 1, done)!;
  assert.equal(applyToShard(shard, 1, done), null, "the same change twice changes nothing");
  assert.equal(applyToShard(shard, 1, file(1, "running")), null, "a final capture stays final");
  shard = applyToShard(shard, 2, file(2, "failed"))!;
  const sum = sumShards([shard]);
  assert.deepEqual(sum.counts, { total: 3, queued: 1, running: 0, done: 1, failed: 1 });
  assert.deepEqual(sum.lines, { conn: 5 });
  assert.deepEqual(indexesInStates([shard], new Set(["failed", "queued"])), [0, 2]);
  assert.deepEqual(shardOf(41, 8), { shard: 1, position: 5 });
});

test("a job kept in the previous layout (one value, every capture) is converted at api start-up: readable, listed, pageable", async () => {
  const writer = await startStack({ natsUrl: nats.url, services: [], env: { BROCAPI_NATS_PREFIX: PREFIX } });
  stacks.push(writer);
  const id = "01900000-0000-7000-8000-00000000beef";
  const legacy = {
    id,
    tag: "old",
    state: "partial",
    format: "tsv",
    submittedAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:01.000Z",
    finishedAt: "2026-01-01T00:00:09.000Z",
    files: [file(0, "done", { conn: 7, dns: 2 }), file(1, "failed"), file(2, "done", { conn: 1 })],
  };
  await writer.ctx.topology.jobs.create(id, JSON.stringify(legacy));

  const api = await startStack({ natsUrl: nats.url, services: ["api"], env: { BROCAPI_NATS_PREFIX: PREFIX } });
  stacks.push(api);
  const header = (await api.ctx.topology.jobs.get(id))!.json() as { layout: number; files: number };
  assert.equal(header.layout, 2, "the old value was replaced by a header");
  assert.equal(header.files, 3);
  const status = (await (await fetch(`${api.url}/jobs/${id}`)).json()) as JobStatus;
  assert.equal(status.state, "partial");
  assert.equal(status.tag, "old");
  assert.deepEqual(status.counts, { total: 3, queued: 0, running: 0, done: 2, failed: 1 });
  assert.deepEqual(status.lines, { conn: 8, dns: 2 });
  assert.deepEqual(status.files.map((f) => f.state), ["done", "failed", "done"]);
  const failed = (await (await fetch(`${api.url}/jobs/${id}/captures?state=failed`)).json()) as { captures: FileRecord[] };
  assert.deepEqual(failed.captures.map((f) => f.index), [1]);
  const listed = (await (await fetch(`${api.url}/jobs?tag=old`)).json()) as { jobs: { id: string; files: number }[] };
  assert.deepEqual(listed.jobs, [{ id, tag: "old", state: "partial", submittedAt: legacy.submittedAt, finishedAt: legacy.finishedAt, files: 3 }]);
  // A second api finds the bucket converted and changes nothing.
  const again = await startStack({ natsUrl: nats.url, services: ["api"], env: { BROCAPI_NATS_PREFIX: PREFIX } });
  stacks.push(again);
  const listedAgain = (await (await fetch(`${again.url}/jobs?tag=old`)).json()) as { jobs: unknown[] };
  assert.equal(listedAgain.jobs.length, 1, "listed once");
});

test("a running job's status has no finish time, though some captures finished; it has one once final (GET /jobs/:id and the SSE status)", async () => {
  // The api only, the test acting as the worker: the tasks stay queued, so nothing else moves the
  // job, and the reconciler leaves a job whose tasks are still queued alone.
  const api = await startStack({ natsUrl: nats.url, services: ["api"] });
  stacks.push(api);
  const pcap = join(api.dataDir, "r.pcap");
  await writeSyntheticPcap(pcap, { flows: 3, seed: 31 });
  const { body } = await submit(api.url, [pcap, pcap], "finish-time");
  const id = body.job_id;
  const store = new JobStore(api.ctx.topology);
  const end = (f: FileRecord): void => {
    Object.assign(f, { state: "done", attempts: 1, startedAt: f.startedAt ?? new Date().toISOString(), finishedAt: new Date().toISOString(), lines: { conn: 3 } });
  };
  await store.updateCapture(id, 0, end, { files: 2 });
  await store.updateCapture(id, 1, (f) => Object.assign(f, { state: "running", attempts: 1, startedAt: new Date().toISOString() }), { files: 2 });

  const running = (await (await fetch(`${api.url}/jobs/${id}`)).json()) as JobStatus;
  assert.equal(running.state, "running");
  assert.equal(running.counts.done, 1);
  assert.ok(running.startedAt, "a running job says when it started");
  assert.equal(running.finishedAt, undefined, "a running job has no finish time (its first capture's finish is not the job's)");
  // The SSE stream's first event is the same status: read it, then leave.
  const sse = new AbortController();
  const reader = (await fetch(`${api.url}/jobs/${id}/events`, { signal: sse.signal })).body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
  sse.abort();
  const status = JSON.parse(/^event: status\ndata: (.+)$/m.exec(text)![1]!) as JobStatus;
  assert.equal(status.state, "running");
  assert.equal(status.finishedAt, undefined, "nor in the SSE status");

  await store.updateCapture(id, 1, end, { files: 2 });
  const final = (await (await fetch(`${api.url}/jobs/${id}`)).json()) as JobStatus;
  assert.equal(final.state, "done");
  assert.ok(final.finishedAt && final.finishedAt >= final.startedAt!, "a final job says when it ended");
});
