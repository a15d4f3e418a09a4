import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { planRouting } from "../services/shipper/routing.js";
import { SinkAuditor } from "../services/shipper/sink-audit.js";
import { deleteJob } from "../shared/jobs/delete-job.js";
import { SinkProgressStore } from "../shared/jobs/sink-progress-store.js";
import { queueReplay } from "../shared/messages/replay-request.js";
import { readSubject } from "../shared/nats/read-subject.js";
import { metrics } from "../shared/metrics/registry.js";
import { ensureReplayConsumer, ensureSinkConsumer } from "../shared/nats/topology.js";
import { metricValue } from "./helpers/job-counts.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

// The audit's rounds run one at a time here, by hand, for a sink instance no shipper runs: its
// consumers exist, and the test moves them. What a round must leave alone while the job's lines
// are pending or a replay is queued, and what it settles without acting (deleted, lines expired,
// routed away). The audit end to end, with shippers: sink-audit.test.ts.

let nats: TestNats;
let stack: Stack;
const SINK = "guard";

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, services: ["api", "worker"], env: { BROCAPI_BATCH_LINES: "50" } });
  await ensureSinkConsumer(stack.ctx.topology, SINK, 30_000);
  await ensureReplayConsumer(stack.ctx.topology, SINK, 30_000);
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

const routing = (include?: string[]) => planRouting({ logs: { exclude: [], ...(include ? { include } : {}) }, tags: { exclude: [] } }, stack.ctx.topology.names, stack.ctx.nc.info!.version);
const auditor = (include?: string[], ctx = stack.ctx, log = pino({ level: "silent" })) => new SinkAuditor(ctx, { name: SINK, routing: routing(include), autoReplay: false }, log);
const audits = async (result: string): Promise<number> => metricValue(await metrics.render(), `brocapi_sink_audits_total{result="${result}",sink="${SINK}"}`);
const record = async (jobId: string) => new SinkProgressStore(stack.ctx.topology.sinks).current(jobId, SINK);

async function finishedJob(name: string, flows: number): Promise<{ id: string; total: number }> {
  const pcap = join(stack.dataDir, `${name}.pcap`);
  await writeSyntheticPcap(pcap, { flows, seed: flows });
  const { body } = await submit(stack.url, [pcap], name);
  const job = await stack.waitForJob(body.job_id);
  return { id: job.id, total: Object.values(job.lines).reduce((a, b) => a + b, 0) };
}

/** The subjects of the message reads (direct gets, and gets from a stream's leader) `fn` makes. */
async function readsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const watcher = await connect({ servers: nats.url });
  try {
    const seen: string[] = [];
    for (const subject of ["$JS.API.DIRECT.GET.>", "$JS.API.STREAM.MSG.GET.>"]) watcher.subscribe(subject, { callback: (_, m) => void seen.push(m.subject) });
    await watcher.flush();
    await fn();
    await stack.ctx.nc.flush();
    await watcher.flush();
    return seen;
  } finally {
    await watcher.close();
  }
}

/** Takes `durable`'s next messages on `stream` and acks them: a consumer moved past them, nothing delivered anywhere. */
async function ackAll(stream: string, durable: string): Promise<void> {
  const consumer = await jetstream(stack.ctx.nc).consumers.get(stream, durable);
  for (;;) {
    let n = 0;
    for await (const m of await consumer.fetch({ max_messages: 256, expires: 1_000 })) {
      await m.ackAck();
      n++;
    }
    if (n === 0) return;
  }
}

test("the audit waits while the job's lines are pending and while a replay of the job is queued (not of another job); then a short count is reported once", async () => {
  const job = await finishedJob("pending", 300);
  const other = await finishedJob("other", 70);
  const a = auditor();
  await a.round();
  assert.equal(await record(job.id), null, "lines still pending on the consumer: nothing done");
  const { names } = stack.ctx.topology;
  const reads = (await readsDuring(() => a.round())).filter((subject) => !subject.endsWith(`.${names.jobsStream}`));
  assert.deepEqual(reads, [], "still pending: the job's header, count and last batches are not read again (only the index is)");

  await ackAll(names.logsStream, names.sinkConsumer(SINK));
  await queueReplay(jetstream(stack.ctx.nc), names, job.id, SINK);
  // Something on the instance's replay subject that is not a request holds no job back, and does not stop the audit.
  await jetstream(stack.ctx.nc).publish(names.replaySubject(SINK), "not a request");
  await a.round();
  assert.equal(await record(job.id), null, "a replay of the job queued: nothing done");
  assert.deepEqual({ ...(await record(other.id))?.audit, at: undefined }, { missing: other.total, action: "report", at: undefined }, "a replay of another job does not hold this one");

  await ackAll(names.replayStream, names.replayConsumer(SINK));
  await a.round();
  const found = await record(job.id);
  assert.deepEqual({ ...found?.audit, at: undefined }, { missing: job.total, action: "report", at: undefined }, "every line acked past, none counted: short by all");
  assert.equal(await audits("report"), 2);
  await a.round();
  await auditor().round();
  assert.equal(await audits("report"), 2, "each reported once; a new process finds them recorded");
  assert.equal(await audits("audited"), 2);
});

test("a deleted job, a job whose lines expired and a job routed away are settled without a finding", async () => {
  const gone = await finishedJob("deleted", 50);
  const expired = await finishedJob("expired", 60);
  const { names, jsm } = stack.ctx.topology;
  await deleteJob(stack.ctx.topology, gone.id);
  await jsm.streams.purge(names.logsStream, { filter: names.logsOfJob(expired.id) });
  const before = { deleted: await audits("deleted"), expired: await audits("lines-expired"), away: await audits("routed-away") };
  await auditor().round();
  assert.equal(await audits("deleted"), before.deleted + 1);
  assert.equal(await audits("lines-expired"), before.expired + 1);
  assert.equal(await record(gone.id), null);
  assert.equal(await record(expired.id), null, "short, but nothing a replay could bring back: no finding");
  await auditor(["no-such-log"]).round();
  assert.ok((await audits("routed-away")) >= before.away + 2, "every job still listed is routed away from an instance that takes no log type of it");
});

/**
 * `jsm` as a client connected to a replica of `stream` that holds its messages up to `lastHeld`
 * only sees it: direct gets (which any replica answers) find nothing past that, as on an R3
 * stream whose replica is behind; reads from the stream leader (STREAM.MSG.GET) see everything.
 */
function replicaBehind(jsm: JetStreamManager, stream: string, lastHeld: number): JetStreamManager {
  const direct = new Proxy(jsm.direct, {
    get: (target, prop, receiver) =>
      prop === "getMessage"
        ? async (...args: Parameters<typeof target.getMessage>) => {
            const m = await target.getMessage(...args);
            return args[0] === stream && m && m.seq > lastHeld ? null : m;
          }
        : Reflect.get(target, prop, receiver),
  });
  return new Proxy(jsm, { get: (target, prop, receiver) => (prop === "direct" ? direct : Reflect.get(target, prop, receiver)) });
}

test("a job listed after what a replica behind holds is audited all the same: the index scan ends where the stream leader ends, and moves only as far as it read", async () => {
  const { names, jsm } = stack.ctx.topology;
  const held = (await jsm.streams.info(names.jobsStream)).state.last_seq;
  const a = auditor(undefined, { ...stack.ctx, topology: { ...stack.ctx.topology, jsm: replicaBehind(jsm, names.jobsStream, held) } });
  await a.round();
  const job = await finishedJob("behind", 40);
  await ackAll(names.logsStream, names.sinkConsumer(SINK));
  await a.round();
  const found = await record(job.id);
  assert.deepEqual({ ...found?.audit, at: undefined }, { missing: job.total, action: "report", at: undefined }, "listed past the replica's last message, audited");
});

test("a job whose oldest batches expired while its last ones are still in the stream is not repairable: settled as lines-expired with a warning, nothing recorded on the job; one at the stream's edge that lost nothing is", async () => {
  const job = await finishedJob("partly-expired", 300);
  const { names, jsm } = stack.ctx.topology;
  await ackAll(names.logsStream, names.sinkConsumer(SINK));
  let first: number | undefined;
  for await (const m of readSubject(jsm, names.logsStream, names.logsOfJob(job.id))) {
    first = m.seq;
    break;
  }
  // What the stream's age or size limit does: its oldest messages go, here up to the job's first batch.
  await jsm.streams.purge(names.logsStream, { seq: first! + 1 });
  const warnings: Record<string, unknown>[] = [];
  await auditor(undefined, stack.ctx, pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) })).round();
  assert.equal(await record(job.id), null, "no finding on the job's record (a replay could not bring the first batch back)");
  const warned = warnings.filter((w) => w.job === job.id);
  assert.deepEqual(
    warned.map((w) => [w.event, w.reason, w.expected, w.counted]),
    [["sink.audit_skipped", "lines-expired", job.total, 0]],
  );

  // A job at the stream's edge that lost nothing (its first batch is the stream's first message, published after it was listed): counted batch by batch, whole, so repairable.
  await jsm.streams.purge(names.logsStream);
  const edge = await finishedJob("at-the-edge", 100);
  await ackAll(names.logsStream, names.sinkConsumer(SINK));
  await auditor().round();
  assert.deepEqual({ ...(await record(edge.id))?.audit, at: undefined }, { missing: edge.total, action: "report", at: undefined });
});

test("a job deleted after the audit first read it (kept as final, its consumer still behind) is settled as deleted once its consumer passes it: no finding written back", async () => {
  const job = await finishedJob("deleted-later", 80);
  const { names } = stack.ctx.topology;
  const warnings: Record<string, unknown>[] = [];
  const a = auditor(undefined, stack.ctx, pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) }));
  await a.round();
  await deleteJob(stack.ctx.topology, job.id);
  const before = await audits("deleted");
  await ackAll(names.logsStream, names.sinkConsumer(SINK));
  await a.round();
  assert.equal(await audits("deleted"), before + 1);
  assert.equal(await record(job.id), null, "nothing written for a deleted job");
  assert.deepEqual(warnings.filter((w) => w.job === job.id), []);
});
