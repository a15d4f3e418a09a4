import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { JobStatus } from "../../shared/jobs/job-status.js";
import { isFinal } from "../../shared/jobs/job-record.js";
import { natsNames, type Names } from "../../shared/nats/names.js";
import { startTestNats, type TestNats } from "../helpers/nats.js";
import { writeSyntheticPcap } from "../helpers/pcap-writer.js";
import { ServiceProcesses, type ServiceProcess } from "../helpers/processes.js";
import { startTestRsyslog, type TestRsyslog } from "../helpers/rsyslog.js";
import { FLUSH_AT_BATCHES } from "../../services/shipper/sink-runner.js";
import { deliveredLines, directoryDataLines, publishedLines } from "../helpers/job-counts.js";
import { eventually } from "../helpers/stack.js";
import { submit } from "../helpers/submit.js";

/**
 * What the waiting and counting helpers below need: where NATS is (one URL or a comma-separated
 * list of cluster nodes), the names, the service processes and the two sinks' destinations.
 */
export interface Pipeline {
  readonly natsUrl: string;
  rsyslog: TestRsyslog;
  procs: ServiceProcesses;
  names: Names;
  dataDir: string;
  logDir: string;
}

/**
 * Everything a fault test kills and restarts: a real nats-server, a real rsyslogd, and the
 * Brocapi services as child processes sharing one NATS prefix, data dir and log dir.
 */
export interface FaultEnv extends Pipeline {
  nats: TestNats;
  /** SIGKILLs nats-server and starts it again on the same port and store. */
  crashNats(downMs: number): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Settings every fault test shares: a task comes back 2 s after its worker died, small batches
 * so a few thousand lines span hundreds of messages, and only conn.log shipped (the double's
 * telemetry.log has no count the generator predicts).
 */
export const FAULT_ENV = {
  BROCAPI_ACK_WAIT_MS: "2000",
  BROCAPI_BATCH_LINES: "10",
  BROCAPI_LOG_BLACKLIST: "telemetry",
  BROCAPI_WORKER_CONCURRENCY: "2",
};

async function startFaultEnv(env: Record<string, string> = {}): Promise<FaultEnv> {
  const dataDir = await mkdtemp(join(tmpdir(), "brocapi-faults-"));
  const logDir = join(dataDir, "logs");
  let nats = await startTestNats();
  const rsyslog = await startTestRsyslog();
  const prefix = `f${Math.random().toString(36).slice(2, 10)}`;
  const procs = new ServiceProcesses({
    NATS_URL: nats.url,
    BROCAPI_NATS_PREFIX: prefix,
    BROCAPI_DATA_DIR: dataDir,
    BROCAPI_LOG_DIR: logDir,
    BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${rsyslog.port}`,
    ...FAULT_ENV,
    ...env,
  });
  const self: FaultEnv = {
    get nats() {
      return nats;
    },
    get natsUrl() {
      return nats.url;
    },
    rsyslog,
    procs,
    names: natsNames(prefix),
    dataDir,
    logDir,
    async crashNats(downMs) {
      await nats.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, downMs));
      nats = await nats.restart();
    },
    async cleanup() {
      await procs.stopAll();
      await rsyslog.cleanup();
      await nats.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/**
 * The hooks of a fault test file: one FaultEnv for the file, and every process a test started
 * stopped (SIGTERM, drained) after it, so no test's services work on the next test's job.
 * Returns the env, available once the file's `before` hooks ran.
 */
export function useFaultEnv(env: Record<string, string> = {}): () => FaultEnv {
  let current: FaultEnv | undefined;
  before(async () => {
    current = await startFaultEnv(env);
  });
  afterEach(async () => {
    await current?.procs.terminateAll();
  });
  after(async () => {
    await current?.cleanup();
  });
  return () => current!;
}

/** The api and one shipper for both sinks: what most fault tests submit through and count from. */
export async function startApiAndShipper(env: Pipeline): Promise<ServiceProcess> {
  const api = await env.procs.start("api");
  await env.procs.start("shipper", { args: ["--sink", "directory", "--sink", "syslog"] });
  return api;
}

/** A synthetic capture: `flows` conn.log lines, with timestamps in a range of its own (`slot`). */
export interface Capture {
  path: string;
  flows: number;
  slot: number;
}

const EPOCH = 1_700_000_000;
/** Seconds between the start times of captures: flows are 1 ms apart, so no capture reaches the next. */
const CAPTURE_SPACING = 1_000_000;

/**
 * Writes captures with `flows[i]` flows each; capture i's conn lines have ts in slot i: [EPOCH + i·spacing, +spacing).
 * `dnsEvery`: every so many flows is a DNS exchange, so the job has dns lines too.
 */
export async function writeCaptures(dir: string, flows: readonly number[], prefix = "cap", opts: { dnsEvery?: number } = {}): Promise<Capture[]> {
  return Promise.all(
    flows.map(async (n, i) => {
      const path = join(dir, `${prefix}${i}.pcap`);
      await writeSyntheticPcap(path, { flows: n, seed: i + 1, startTime: EPOCH + i * CAPTURE_SPACING, ...opts });
      return { path, flows: n, slot: i };
    }),
  );
}

/** Submits the captures to the api at `url`; returns the job id. */
export async function submitJob(url: string, captures: readonly Capture[], tag: string): Promise<string> {
  const { httpStatus, body } = await submit(
    url,
    captures.map((c) => c.path),
    tag,
  );
  if (httpStatus !== 200) throw new Error(`submission refused: ${httpStatus} ${JSON.stringify(body)}`);
  return body.job_id;
}

/** `GET /jobs/:id`, or null while the api cannot answer (it may be restarting, or NATS away). */
export async function jobStatus(url: string, id: string): Promise<JobStatus | null> {
  try {
    const res = await fetch(`${url}/jobs/${id}`);
    return res.ok ? ((await res.json()) as JobStatus) : null;
  } catch {
    return null;
  }
}

export async function waitForJobState(url: string, id: string, accept: (job: JobStatus) => boolean, what: string, timeoutMs = 90_000, report = (): string => ""): Promise<JobStatus> {
  let job: JobStatus | null = null;
  try {
    await eventually(async () => {
      job = await jobStatus(url, id);
      return job !== null && accept(job);
    }, timeoutMs, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status ${JSON.stringify(job)}\n${report()}`);
  }
  return job!;
}

export const waitForFinalJob = (url: string, id: string, report?: () => string): Promise<JobStatus> =>
  waitForJobState(url, id, (j) => isFinal(j.state), `job ${id} final`, 90_000, report);

/** Runs `fn` on a short-lived connection to the test's nats-server; null while it is down. */
export async function withJsm<T>(env: Pipeline, fn: (jsm: JetStreamManager) => Promise<T>): Promise<T | null> {
  const nc = await connect({ servers: env.natsUrl.split(","), reconnect: false }).catch(() => null);
  if (!nc) return null;
  try {
    return await fn(await jetstreamManager(nc));
  } catch {
    return null;
  } finally {
    await nc.close();
  }
}

/** Messages in the LOGS stream (batches published), or null while NATS is down. */
export const logBatchesStored = (env: Pipeline): Promise<number | null> => withJsm(env, async (jsm) => (await jsm.streams.info(env.names.logsStream)).state.messages);

/** Tasks in the work queue, and those the workers' consumer still has to deliver or see acked. */
export const workQueue = (env: Pipeline): Promise<{ messages: number; pending: number } | null> =>
  withJsm(env, async (jsm) => {
    const stream = await jsm.streams.info(env.names.tasksStream);
    const consumer = await jsm.consumers.info(env.names.tasksStream, env.names.workerConsumer);
    return { messages: stream.state.messages, pending: consumer.num_ack_pending + consumer.num_pending };
  });

/**
 * Waits until NATS has nothing left to hand out: the workers' consumer has no task to deliver or
 * to see acked, and the sink consumers have delivered and seen acked every LOGS message. Only
 * then can a test say a line arrived "once": a batch a killed process held comes back only after
 * the sink's ack wait. (The consumer's view, not the stream's message count: after nats-server
 * is SIGKILLed, a task its consumer saw acked can stay in the work-queue stream, never delivered.)
 */
export async function waitForQuiet(env: Pipeline, sinks: readonly string[], timeoutMs = 120_000): Promise<void> {
  const quiet = (): Promise<boolean | null> =>
    withJsm(env, async (jsm) => {
      const tasks = await jsm.consumers.info(env.names.tasksStream, env.names.workerConsumer);
      if (tasks.num_pending + tasks.num_ack_pending > 0) return false;
      for (const kind of sinks) {
        const c = await jsm.consumers.info(env.names.logsStream, env.names.sinkConsumer(kind));
        if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
      }
      return true;
    });
  await eventually(async () => (await quiet()) === true, timeoutMs, "tasks and sink consumers drained").catch(async (err: unknown) => {
    const state = await withJsm(env, async (jsm) => ({
      tasks: await workQueue(env),
      sinks: await Promise.all(
        sinks.map(async (kind) => {
          const c = await jsm.consumers.info(env.names.logsStream, env.names.sinkConsumer(kind));
          return { kind, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered, waiting: c.num_waiting };
        }),
      ),
    }));
    throw new Error(`${(err as Error).message}: ${JSON.stringify(state)}\n${env.procs.report()}`);
  });
}

/** Resolves once `n` batches were published on the LOGS subjects: a worker is publishing right now. */
export async function logBatchesSeen(env: Pipeline, n: number): Promise<{ arrived: Promise<void>; close(): Promise<void> }> {
  const nc = await connect({ servers: env.natsUrl.split(",") });
  const sub = nc.subscribe(env.names.logsFilter, { max: n });
  const arrived = (async () => {
    for await (const _ of sub);
  })();
  await nc.flush();
  return { arrived, close: () => nc.close() };
}

/** How the conn lines of each capture arrived at one destination. */
export interface Delivery {
  /** Lines expected (flows of every capture). */
  expected: number;
  /** Lines received, repeats included. */
  received: number;
  /** Expected lines that never arrived. */
  missing: number;
  /** Lines that arrived more than once (a line repeated by a second Zeek run has another uid: it counts too). */
  duplicates: number;
  /** Places where a capture's lines arrived in another order than Zeek wrote them (ts order). */
  outOfOrder: number;
  /** Lines that are not whole conn records (a torn write). */
  malformed: number;
}

const CONN_FIELDS = 22;

/**
 * Checks conn lines against the captures: each capture's lines are recognised by their ts range,
 * identified without the uid (random per Zeek run), and must come in increasing ts order, which is
 * the order the double writes conn.log in for these captures (test/faults/baseline.test.ts).
 */
export function checkConnLines(lines: readonly string[], captures: readonly Capture[]): Delivery {
  const bySlot = new Map(captures.map((c) => [c.slot, { seen: new Set<string>(), lastTs: -Infinity }]));
  let received = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let malformed = 0;
  for (const line of lines) {
    const fields = line.split("\t");
    const ts = Number(fields[0]);
    const capture = bySlot.get(Math.floor((ts - EPOCH) / CAPTURE_SPACING));
    if (fields.length !== CONN_FIELDS || !capture) {
      malformed++;
      continue;
    }
    received++;
    const id = [fields[0], ...fields.slice(2)].join("\t");
    if (capture.seen.has(id)) {
      duplicates++;
      continue;
    }
    capture.seen.add(id);
    if (ts <= capture.lastTs) outOfOrder++;
    capture.lastTs = ts;
  }
  const expected = captures.reduce((n, c) => n + c.flows, 0);
  const distinct = [...bySlot.values()].reduce((n, c) => n + c.seen.size, 0);
  return { expected, received, missing: expected - distinct, duplicates, outOfOrder, malformed };
}

/** The data lines of the directory sink's conn.log of a job, and how many header blocks it has. */
export async function directoryConn(env: Pipeline, jobId: string): Promise<{ lines: string[]; headerBlocks: number }> {
  const text = await readFile(join(env.logDir, jobId, "conn.log"), "utf8").catch(() => "");
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return { lines: all.filter((l) => !l.startsWith("#")), headerBlocks: all.filter((l) => l.startsWith("#fields")).length };
}

/** The conn lines of a job's tag (the syslog HOSTNAME) rsyslog received (program `bro_conn`), repeats included. */
export async function syslogConn(env: Pipeline, tag: string): Promise<string[]> {
  return (await env.rsyslog.received()).filter((r) => r.hostname === tag && r.program === "bro_conn").map((r) => r.msg);
}

export async function directoryDelivery(env: Pipeline, jobId: string, captures: readonly Capture[]): Promise<Delivery & { headerBlocks: number }> {
  const { lines, headerBlocks } = await directoryConn(env, jobId);
  return { ...checkConnLines(lines, captures), headerBlocks };
}

export async function syslogDelivery(env: Pipeline, tag: string, captures: readonly Capture[]): Promise<Delivery> {
  return checkConnLines(await syslogConn(env, tag), captures);
}

/**
 * Polls `count` often (a sink writes hundreds of batches a second) until it reaches `n`: the
 * moment to inject a fault mid-flight. Returns the count seen.
 */
export async function waitForLines(count: () => Promise<number>, n: number, what: string, report: () => string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const seen = await count();
    if (seen >= n) return seen;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (had ${seen} of ${n})\n${report()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * What the job says each sink delivered, against what arrived. Call once NATS is quiet (every
 * batch acked, and a batch is counted before its ack). `exact`: no sink process was killed and
 * NATS did not restart while the sinks shipped, so each batch was counted once: the directory
 * sink's count equals the lines in its files and the lines published, and so does a TCP syslog
 * sink's, whatever rsyslog received again. Otherwise a batch counted but not yet acked when its
 * shipper died (or whose ack NATS lost) is counted again when it is redelivered: every count is
 * then at least the lines published, a syslog count at most what rsyslog received (each counted
 * line was written), and a directory count at most one unacked flush (`FLUSH_AT_BATCHES` batches)
 * above the lines published. Where NATS restarted but no shipper died, the directory count is
 * exact again (a batch its own process wrote is recognised and not counted twice) and a syslog
 * count is exactly the lines sent: pass `syslogSentAgainTag` and it must equal every line of the
 * tag rsyslog received, repeats included. Returns the counts.
 */
export async function assertDeliveredCounts(
  env: FaultEnv,
  url: string,
  jobId: string,
  sinks: readonly ("directory" | "syslog")[],
  exact: { exact: true; syslogSentAgainTag?: string } | { exact: false; tag: string; batchLines: number },
): Promise<Record<string, number>> {
  const job = await jobStatus(url, jobId);
  if (job === null) throw new Error(`job ${jobId} unreadable at ${url}`);
  const published = publishedLines(job);
  const counts: Record<string, number> = { published };
  for (const sink of sinks) counts[sink] = deliveredLines(job, sink);
  if (sinks.includes("directory")) counts["directoryFiles"] = await directoryDataLines(env.logDir, jobId);
  if (exact.exact) {
    for (const sink of sinks) {
      if (sink === "syslog" && exact.syslogSentAgainTag !== undefined) {
        counts["syslogReceived"] = await syslogJobLines(env, exact.syslogSentAgainTag);
        assert.equal(counts[sink], counts["syslogReceived"], "sinks.syslog.lines equals the lines rsyslog received, repeats included");
      } else {
        assert.equal(counts[sink], published, `sinks.${sink}.lines equals the lines published`);
      }
    }
    if (sinks.includes("directory")) assert.equal(counts["directory"], counts["directoryFiles"], "sinks.directory.lines equals the lines in its files");
    return counts;
  }
  for (const sink of sinks) assert.ok(counts[sink]! >= published, `sinks.${sink}.lines (${counts[sink]}) counts every line published (${published})`);
  if (sinks.includes("syslog")) {
    const atRsyslog = (await syslogConn(env, exact.tag)).length;
    assert.ok(counts["syslog"]! <= atRsyslog, `sinks.syslog.lines (${counts["syslog"]}) counts only lines written: rsyslog received ${atRsyslog}`);
  }
  if (sinks.includes("directory")) {
    const bound = published + FLUSH_AT_BATCHES * exact.batchLines;
    assert.ok(counts["directory"]! <= bound, `sinks.directory.lines (${counts["directory"]}) at most one unacked flush above the lines published (${bound})`);
  }
  return counts;
}

/** Every line (all log types) of a job's tag (the syslog HOSTNAME) rsyslog received, repeats included. */
export async function syslogJobLines(env: Pipeline, tag: string): Promise<number> {
  return (await env.rsyslog.received()).filter((r) => r.hostname === tag).length;
}

/** Fails unless `at` (lines that had arrived when the fault struck) is part of the job, not all of it or none. */
export function assertMidJob(at: number, total: number, what: string): void {
  assert.ok(at > 0 && at < total, `${what} struck mid-job: at ${at} of ${total} lines`);
}
