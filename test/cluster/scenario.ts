import assert from "node:assert/strict";
import { readdir, readFile, readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { isFinal } from "../../shared/jobs/job-record.js";
import { directoryConn, directoryDelivery, jobStatus, submitJob, syslogDelivery, waitForJobState, waitForQuiet, type Capture } from "../faults/harness.js";
import { multipartBody, RawConnection, submitHead, type RawResponse } from "../helpers/raw-http.js";
import { eventually } from "../helpers/stack.js";
import { submit } from "../helpers/submit.js";
import { CLUSTER_ENV, FLOWS, type ClusterEnv, type Phase } from "./cluster-env.js";
import type { Fault } from "./faults.js";
import { consumerSkipped, missingBatches } from "./missing-batches.js";

/**
 * The bound every job must end within: `done` at most this long after the fault ended (nodes
 * back, every replica current). What it has to cover: a task whose worker lost its node comes
 * back after the ack wait (2 s); one Zeek run of the Zeek job (6 s); the reconciler looks every
 * ack wait; and when the broker was away for every delivery (5, with 1–8 s backoffs), the task is
 * put back for another round once its start is 5 ack waits old. Measured: up to 16.5 s, and ~45 s
 * once at load average 32 when a task had to be put back.
 */
export const DONE_WITHIN_MS = 60_000;

/**
 * How long a sink's audit may take to repair a consumer skip once the sinks are quiet: a round
 * every BROCAPI_SINK_AUDIT_EVERY_MS (2 s here) queues the replay, which rewrites only the missing
 * batches of at most 3,000 lines (directory) or sends the job's 3,000 at most again (syslog).
 */
const REPAIRED_WITHIN_MS = 30_000;

const total = (flows: readonly number[]): number => flows.reduce((a, b) => a + b, 0);
const SINKS = ["directory", "syslog"];
/** Lines of the shipping job in the directory that show its sinks are shipping: the fault then lands. */
const SHIPPING_SEEN = 100;
/** How long the held shippers are let go at a time until SHIPPING_SEEN lines are in. */
const SHIPPING_SLICE_MS = 2;

/**
 * A submission sent up to the middle of its last capture (the ones before it stored whole, this
 * one partly) and held there until `finish`: a fault lands while the api stores its chunks.
 */
async function pausedUpload(url: string, captures: readonly Capture[], tag: string): Promise<{ finish(): Promise<RawResponse | null> }> {
  const boundary = "cluster-fault-boundary";
  const parts = await Promise.all(captures.map(async (c) => ({ name: "file[]", filename: basename(c.path), data: await readFile(c.path) })));
  const body = multipartBody(boundary, [...parts, { name: "tag", data: tag }]);
  const last = parts.at(-1)!.data;
  const cut = body.indexOf(last) + Math.floor(last.length * 0.6);
  const conn = await RawConnection.open(url);
  await conn.write(submitHead(url, `multipart/form-data; boundary=${boundary}`, body.length));
  await conn.write(body.subarray(0, cut));
  return {
    async finish() {
      await conn.write(body.subarray(cut));
      const res = await conn.response();
      conn.destroy();
      return res;
    },
  };
}

/**
 * What the capture store holds: chunk subjects (one per stored or half-stored capture; a deleted
 * capture's chunks are purged) and the live captures with their chunk subjects. A deleted
 * capture leaves a tombstone in the stream, so message counts cannot tell.
 */
async function captureStore(env: ClusterEnv): Promise<{ chunkSets: string[]; live: Array<{ name: string; chunks: string }> } | null> {
  return env.cluster.withJsm(async (jsm) => {
    const bucket = env.names.pcapsBucket;
    const stream = `OBJ_${bucket}`;
    const chunks = await jsm.streams.info(stream, { subjects_filter: `$O.${bucket}.C.>` });
    const metas = await jsm.streams.info(stream, { subjects_filter: `$O.${bucket}.M.>` });
    const live: Array<{ name: string; chunks: string }> = [];
    for (const subject of Object.keys(metas.state.subjects ?? {})) {
      const meta = (await jsm.streams.getMessage(stream, { last_by_subj: subject }))?.json<{ name: string; nuid: string; deleted?: boolean }>();
      if (meta && !meta.deleted) live.push({ name: meta.name, chunks: `$O.${bucket}.C.${meta.nuid}` });
    }
    return { chunkSets: Object.keys(chunks.state.subjects ?? {}), live };
  });
}

/**
 * The Zeek runs of a job going on now: processes whose working directory is one of the
 * worker's folders for the job (`<data dir>/work/<job>-<capture>-*`). Read from /proc,
 * not from NATS, so it can be read while the broker is down.
 */
async function zeekRuns(env: ClusterEnv, jobId: string): Promise<number> {
  const work = join(env.dataDir, "work");
  const dirs = new Set((await readdir(work).catch(() => [] as string[])).filter((d) => d.startsWith(`${jobId}-`)).map((d) => join(work, d)));
  if (dirs.size === 0) return 0;
  const cwds = await Promise.all((await readdir("/proc")).filter((p) => /^\d+$/.test(p)).map((p) => readlink(`/proc/${p}/cwd`).catch(() => "")));
  return cwds.filter((c) => dirs.has(c)).length;
}

/** A 503 in the seed's shape. */
function assertRefused(httpStatus: number, body: Record<string, unknown>, files: string[], tag: string, apiLog: () => string): string {
  assert.equal(httpStatus, 503, `an upload without quorum is refused: ${JSON.stringify(body)}\n${apiLog().slice(-4000)}`);
  assert.deepEqual(Object.keys(body).sort(), ["code", "files", "job_id", "status", "success", "tag"]);
  assert.equal(body.success, false);
  assert.equal(body.code, "BROCAPI_BROKER_UNAVAILABLE");
  assert.match(String(body.status), /^the message broker \(NATS\) is unavailable/);
  // The answer names what the api had read when it gave up: an api that knows its connection is
  // down answers before reading the body; otherwise the files up to the failing one, and the tag
  // (the last field) only if the failure came at the very end.
  const named = body.files as string[];
  assert.deepEqual(named, files.slice(0, named.length), `files: ${JSON.stringify(named)}`);
  assert.ok(body.tag === null || body.tag === tag, `tag: ${String(body.tag)}`);
  return String(body.job_id);
}

/** The api's sweep removes a refused upload's leftovers: grace 2 × the upload time limit, looking every half of it. */
export const SWEPT_WITHIN_MS = 3 * Number(CLUSTER_ENV.BROCAPI_UPLOAD_TIMEOUT_MS) + 5_000;

/**
 * Nothing of the refused uploads is stored: no job record, no capture named after their job ids,
 * and no chunk set that no live capture refers to (chunks written before quorum was lost cannot
 * be deleted without it: the api's sweep removes them once the upload time limit has passed).
 */
export async function assertNothingStored(env: ClusterEnv): Promise<void> {
  for (const r of env.refused) {
    assert.equal(await jobStatus(env.api.url, r.jobId), null, `no job record of the upload refused during "${r.fault}"`);
    assert.equal((await fetch(`${env.api.url}/jobs/${r.jobId}`)).status, 404);
  }
  let now: Awaited<ReturnType<typeof captureStore>> = null;
  const leftovers = (): string[] => {
    if (!now) return ["(capture store unreadable)"];
    const referenced = new Set(now.live.map((l) => l.chunks));
    const named = now.live.filter((l) => env.refused.some((r) => l.name.startsWith(`${r.jobId}/`))).map((l) => l.name);
    return [...named, ...now.chunkSets.filter((s) => !referenced.has(s))];
  };
  // From now: a scenario that failed midway may also have left a half-sent upload for the sweep.
  const deadline = Date.now() + SWEPT_WITHIN_MS;
  await eventually(async () => ((now = await captureStore(env)), leftovers().length === 0), Math.max(1_000, deadline - Date.now()), "no capture or chunk of a refused upload left").catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(leftovers())} (refused: ${JSON.stringify(env.refused)})`);
  });
}

/** The workers' consumer and the TASKS stream as the cluster sees them, for a failure message. */
function workQueueState(env: ClusterEnv): Promise<unknown> {
  return env.cluster.withJsm(async (jsm) => {
    const c = await jsm.consumers.info(env.names.tasksStream, env.names.workerConsumer);
    const s = await jsm.streams.info(env.names.tasksStream);
    return { stream: s.state, consumer: { delivered: c.delivered, ackFloor: c.ack_floor, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered, waiting: c.num_waiting, leader: c.cluster?.leader } };
  });
}

/** How one job fared under one fault: a row of the results table in docs/RELIABILITY.md. */
export interface PhaseResult {
  phase: Phase;
  attempts: number[];
  /** ms from the end of the fault (nodes back, replicas current) to the job's `finishedAt`; negative if it ended before. */
  doneAfterMs: number;
  syslogRepeats: number;
  /** Lines the directory consumer skipped (nats-server 2.9's replicated-consumer bug) and the sink's audit replayed, if any. */
  consumerSkipped?: number;
}

export interface ScenarioResult {
  fault: string;
  /** What was under way when the fault landed, read just before and just after it. */
  landed: { uploadChunkSets: number; zeekRuns: number; linesShipped: number };
  /** ms from the fault's start to its end (nodes back, replicas current). */
  faultMs: number;
  phases: PhaseResult[];
  /** How the half-sent upload (and, without quorum, a new one) was answered. */
  upload: string;
  /** ms from the scenario's start to each step: where its time goes. */
  steps: Record<string, number>;
}

/**
 * One fault, landing on three fresh jobs at once, each in another phase: one whose upload is
 * half stored, one whose captures are in Zeek, one whose lines are being shipped. The fault is
 * triggered by seeing all three (chunks of the upload stored, the Zeek job's runs going, the
 * shipping job's first lines in the directory), and each is checked again right after it
 * landed (still half sent, Zeek still running, lines still missing). The jobs share nothing but
 * the cluster, so each job's checks stand on their own. Asserted per job: `done` within
 * DONE_WITHIN_MS of the fault's end, no capture failed, the directory has every line once (a
 * nats-server 2.9 consumer skip once the sink's audit replayed it, within REPAIRED_WITHIN_MS),
 * rsyslog misses none; every service process is still the one started; without quorum an
 * upload is refused with a 503 (what it left is checked at the end of the file: the api's
 * sweep needs the upload time limit to pass).
 */
export async function runScenario(t: { diagnostic(msg: string): void }, env: ClusterEnv, fault: Fault): Promise<ScenarioResult> {
  try {
    return await scenario(t, env, fault);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nwork queue: ${JSON.stringify(await workQueueState(env))}`, { cause: err });
  }
}

async function scenario(t: { diagnostic(msg: string): void }, env: ClusterEnv, fault: Fault): Promise<ScenarioResult> {
  const slug = fault.name.replace(/\W+/g, "-");
  const report = (): string => env.procs.report();
  const caps = env.captures;
  const tags = { upload: `${slug}-upload`, zeek: `${slug}-zeek`, shipping: `${slug}-shipping` };
  const jobs: Partial<Record<Phase, string>> = {};
  const t0 = Date.now();
  const steps: Record<string, number> = {};
  const step = (name: string): void => void (steps[name] = Date.now() - t0);

  // The shippers ship faster than the rest takes to set up, so they are paused (SIGSTOP, never
  // restarted) while the shipping job is analysed and the other two phases are brought to where
  // the fault must find them; let go, they ship and the fault lands once the first lines arrive.
  const shippers = env.services.filter((s) => s.kind === "shipper");
  const resumeShippers = (): void => shippers.forEach((s) => process.kill(s.pid, "SIGCONT"));
  for (const s of shippers) process.kill(s.pid, "SIGSTOP");
  let paused: Awaited<ReturnType<typeof pausedUpload>>;
  let uploadChunkSets: number;
  try {
    jobs.shipping = await submitJob(env.api.url, caps.shipping, tags.shipping);
    const analysed = await waitForJobState(env.api.url, jobs.shipping, (j) => isFinal(j.state), "the shipping job analysed", 60_000, report);
    assert.equal(analysed.state, "done", `the shipping job before the fault: ${JSON.stringify(analysed.files)}`);
    step("shipping job analysed");
    jobs.zeek = await submitJob(env.api.url, caps.zeek, tags.zeek);
    await eventually(async () => (await zeekRuns(env, jobs.zeek!)) > 0, 30_000, "the Zeek job's captures in Zeek", 20);
    step("Zeek job in Zeek");
    await fault.prepare(env);
    const before = new Set((await captureStore(env))!.chunkSets);
    paused = await pausedUpload(env.api.url, caps.upload, tags.upload);
    // The first capture stored whole, chunks of the second.
    await eventually(async () => ((uploadChunkSets = ((await captureStore(env))?.chunkSets ?? []).filter((s) => !before.has(s)).length), uploadChunkSets >= caps.upload.length), 30_000, "the upload's chunks stored", 20);
    step("upload chunks stored");
    const zeekJob = await jobStatus(env.api.url, jobs.zeek);
    assert.ok(zeekJob?.files.every((f) => f.state !== "done"), `the Zeek job still in Zeek: ${JSON.stringify(zeekJob?.files)}`);
  } catch (err) {
    resumeShippers();
    throw err;
  }
  // Let go a few milliseconds at a time, held again after each slice, until the first lines are
  // in: let go freely on a loaded machine, they shipped all 3,000 lines before this process read
  // the file again (seen in CI), and the fault must land mid-way. They stay held (SIGSTOP) from
  // the last slice to the fault landing, their fetched batches still unacknowledged.
  let linesShipped = 0;
  const deadline = Date.now() + 60_000;
  while ((linesShipped = (await directoryConn(env, jobs.shipping!)).lines.length) < SHIPPING_SEEN) {
    if (Date.now() > deadline) {
      resumeShippers();
      throw new Error(`timed out waiting for the shipping job's first lines in the directory (had ${linesShipped} of ${SHIPPING_SEEN})\n${report()}`);
    }
    resumeShippers();
    await new Promise((r) => setTimeout(r, SHIPPING_SLICE_MS));
    for (const s of shippers) process.kill(s.pid, "SIGSTOP");
  }
  step("lines shipping");
  const struckAt = Date.now();
  // The signals go out when `begin` is called; a node stopped with SIGTERM takes a while to exit.
  const landing = fault.begin();
  resumeShippers();
  // Read right after the fault landed: what is still under way now was under way when it landed.
  const landed = { uploadChunkSets: uploadChunkSets!, zeekRuns: await zeekRuns(env, jobs.zeek!), linesShipped };
  await landing;
  let faultEndedAt = 0;
  const endFault = async (): Promise<void> => {
    await fault.end(env);
    faultEndedAt = Date.now();
    step("fault ended");
  };
  try {
    assert.ok(landed.zeekRuns > 0, "the fault landed while Zeek ran on the Zeek job");
    assert.ok(landed.linesShipped < total(FLOWS.shipping), `the fault landed while the lines were shipped: ${landed.linesShipped}`);

    let upload: string;
    const res = await paused.finish();
    assert.ok(res, "the api answered the upload");
    const body = JSON.parse(res.body) as Record<string, unknown>;
    // Without quorum nothing can be stored: the half-sent upload and a new one must get a 503. With
    // one node lost, an upload whose api was connected to it (or whose store request was in
    // flight on it) may get the same 503; either way a 503 leaves nothing and a retry succeeds.
    if (fault.quorumLost || res.status === 503) {
      const names = caps.upload.map((c) => basename(c.path));
      env.refused.push({ jobId: assertRefused(res.status, body, names, tags.upload, env.api.output), fault: fault.name, at: Date.now() });
      if (fault.quorumLost) {
        const one = caps.upload[0]!;
        const fresh = await submit(env.api.url, [one.path], `${tags.upload}-new`);
        const jobId = assertRefused(fresh.httpStatus, fresh.body as unknown as Record<string, unknown>, [basename(one.path)], `${tags.upload}-new`, env.api.output);
        env.refused.push({ jobId, fault: `${fault.name} (a new upload)`, at: Date.now() });
      }
      await endFault();
      upload = fault.quorumLost ? "503 (and 503 for a new upload); retried after: 200" : "503; retried after: 200";
      jobs.upload = await submitJob(env.api.url, caps.upload, tags.upload); // the client tries again, as the answer says
    } else {
      assert.equal(res.status, 200, `upload during "${fault.describe()}": ${res.body}`);
      upload = "200";
      jobs.upload = String(body.job_id);
      await endFault();
    }

    const phases: PhaseResult[] = [];
    for (const phase of ["upload", "zeek", "shipping"] as const) {
      const jobId = jobs[phase]!;
      const flows = FLOWS[phase];
      const job = await waitForJobState(env.api.url, jobId, (j) => isFinal(j.state), `${phase} job ${jobId} final`, Math.max(1_000, faultEndedAt + DONE_WITHIN_MS - Date.now()), report);
      assert.equal(job.state, "done", `${phase} job after "${fault.describe()}": ${JSON.stringify(job.files)}\n${report()}`);
      assert.deepEqual(
        job.files.map((f) => [f.state, f.lines.conn]),
        flows.map((n) => ["done", n]),
        `${phase} job: no capture given up, every line counted`,
      );
      phases.push({ phase, attempts: job.files.map((f) => f.attempts), doneAfterMs: Date.parse(job.finishedAt!) - faultEndedAt, syslogRepeats: 0 });
    }
    step("jobs done");
    await waitForQuiet(env, SINKS);
    step("sinks quiet");
    for (const p of phases) {
      const dir = await directoryDelivery(env, jobs[p.phase]!, caps[p.phase]);
      const syslog = await syslogDelivery(env, tags[p.phase], caps[p.phase]);
      p.syslogRepeats = syslog.duplicates;
      t.diagnostic(`${fault.describe()}, ${p.phase} job: attempts ${JSON.stringify(p.attempts)}; done ${p.doneAfterMs} ms after; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
      const counted = (d: typeof dir) => ({ missing: d.missing, duplicates: d.duplicates, received: d.received, malformed: d.malformed, headerBlocks: d.headerBlocks });
      let got = counted(dir);
      const want = { missing: 0, duplicates: 0, received: total(FLOWS[p.phase]), malformed: 0, headerBlocks: 1 };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        const batches = await missingBatches(env, jobs[p.phase]!);
        const where = JSON.stringify({ attempts: p.attempts, syslog, batches });
        // The one shortfall that may show here: batches the broker's consumer skipped (nats-server
        // 2.9, fixed in 2.11; docs/RELIABILITY.md), which the directory sink's audit repairs by
        // replaying the job. Any other shortfall fails, and so does a skip left unrepaired.
        if (!consumerSkipped(batches, got, want.received)) assert.deepEqual(got, want, `${p.phase} job: every line once in the directory; ${where}`);
        t.diagnostic(`nats-server 2.9 consumer skip (nats-server#6566): ${p.phase} job, ${got.missing} lines the directory consumer acknowledged without delivering; waiting for the sink's audit; ${where}`);
        await eventually(async () => JSON.stringify(counted(await directoryDelivery(env, jobs[p.phase]!, caps[p.phase]))) === JSON.stringify(want), REPAIRED_WITHIN_MS, "the directory sink's audit to repair the skip").catch(() => undefined);
        got = counted(await directoryDelivery(env, jobs[p.phase]!, caps[p.phase]));
        assert.deepEqual(got, want, `${p.phase} job: every line once in the directory once its audit replayed what the consumer skipped; ${where}`);
      }
      // The audit may have repaired a skip before the files were read: its record says so.
      const audit = (await jobStatus(env.api.url, jobs[p.phase]!))?.sinks["directory"]?.audit;
      if (audit) {
        assert.equal(audit.action, "replay", "a directory shortfall is replayed by its audit");
        p.consumerSkipped = audit.missing;
        t.diagnostic(`REPAIRED by the directory sink's audit: ${p.phase} job, ${audit.missing} lines short once its consumer had acked past the job (nats-server 2.9 consumer skip), replayed: ${JSON.stringify(audit)}`);
      }
      // A skip of the syslog consumer: its audit (autoReplay on here) sends the job again.
      let atRsyslog = syslog;
      if (syslog.missing > 0) {
        t.diagnostic(`${p.phase} job: ${syslog.missing} lines missing at rsyslog; waiting for the syslog sink's audit; ${JSON.stringify({ audit: (await jobStatus(env.api.url, jobs[p.phase]!))?.sinks["syslog"], syslog })}`);
        await eventually(async () => (atRsyslog = await syslogDelivery(env, tags[p.phase], caps[p.phase])).missing === 0, REPAIRED_WITHIN_MS, "the syslog sink's audit to replay the job").catch(() => undefined);
        const syslogAudit = (await jobStatus(env.api.url, jobs[p.phase]!))?.sinks["syslog"]?.audit;
        // Only a shortfall the audit found (its consumer acked past lines it never sent) may be
        // repaired this way; lines lost any other way fail here, not hidden by a replay.
        assert.equal(syslogAudit?.action, "replay", `${p.phase} job: lines missing at rsyslog without the syslog sink's audit finding them: ${JSON.stringify(syslog)}`);
        if (atRsyslog.missing === 0) t.diagnostic(`REPAIRED by the syslog sink's audit: ${p.phase} job, ${JSON.stringify(syslogAudit)}; rsyslog now ${JSON.stringify(atRsyslog)}`);
        p.syslogRepeats = atRsyslog.duplicates;
      }
      assert.equal(atRsyslog.missing, 0, `${p.phase} job: nothing missing at rsyslog`);
      assert.equal(atRsyslog.malformed, 0);
    }
    for (const s of env.services) assert.equal(await Promise.race([s.exited.then(() => "exited"), Promise.resolve("running")]), "running", `${s.name} still running, never restarted`);
    step("checked");
    return { fault: fault.describe(), landed, faultMs: faultEndedAt - struckAt, phases, upload, steps };
  } finally {
    // Leave the cluster whole for the next scenario, whatever failed here.
    if (!faultEndedAt) await fault.end(env).catch(() => undefined);
  }
}
