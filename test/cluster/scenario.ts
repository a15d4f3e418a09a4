import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { JobStatus } from "../../shared/jobs/job-status.js";
import {
  directoryConn,
  directoryDelivery,
  jobStatus,
  submitJob,
  syslogDelivery,
  waitForJobState,
  waitForLines,
  waitForQuiet,
  writeCaptures,
  type Capture,
} from "../faults/harness.js";
import { multipartBody, RawConnection, submitHead, type RawResponse } from "../helpers/raw-http.js";
import { eventually } from "../helpers/stack.js";
import { submit } from "../helpers/submit.js";
import { CLUSTER_ENV, type ClusterEnv } from "./cluster-env.js";
import type { Fault } from "./faults.js";

export type Phase = "upload" | "zeek" | "shipping";

/** A job must be `done` this long after the fault ended (nodes back, replicas current). */
export const DONE_WITHIN_MS = 60_000;

/** Conn lines per capture of each job: the shipping job is large enough to still be shipping when the fault lands. */
const FLOWS: Record<Phase, number[]> = { upload: [500, 500], zeek: [500, 500], shipping: [2000, 2000] };
const total = (flows: readonly number[]): number => flows.reduce((a, b) => a + b, 0);
const SINKS = ["directory", "syslog"];

/** A submission whose body stops halfway until `finish`: a fault can land while the api stores it. */
async function pausedUpload(url: string, captures: readonly Capture[], tag: string): Promise<{ finish(): Promise<RawResponse | null> }> {
  const boundary = "cluster-fault-boundary";
  const parts = await Promise.all(captures.map(async (c) => ({ name: "file[]", filename: basename(c.path), data: await readFile(c.path) })));
  const body = multipartBody(boundary, [...parts, { name: "tag", data: tag }]);
  const conn = await RawConnection.open(url);
  const half = Math.floor(body.length / 2);
  await conn.write(submitHead(url, `multipart/form-data; boundary=${boundary}`, body.length));
  await conn.write(body.subarray(0, half));
  return {
    async finish() {
      await conn.write(body.subarray(half));
      const res = await conn.response();
      conn.destroy();
      return res;
    },
  };
}

/** The api's sweep removes a refused upload's leftovers: grace 2 × the upload time limit, every half of it. */
const SWEPT_WITHIN_MS = 3 * Number(CLUSTER_ENV.BROCAPI_UPLOAD_TIMEOUT_MS) + 5_000;

/**
 * What the capture store holds: chunk subjects (one per stored or half-stored capture; a deleted
 * capture's chunks are purged) and the names of live captures. A deleted capture leaves a
 * tombstone in the stream, so message counts cannot tell.
 */
async function captureStore(env: ClusterEnv): Promise<{ chunkSets: number; names: string[] } | null> {
  return env.cluster.withJsm(async (jsm) => {
    const stream = `OBJ_${env.names.pcapsBucket}`;
    const chunks = await jsm.streams.info(stream, { subjects_filter: `$O.${env.names.pcapsBucket}.C.>` });
    const names: string[] = [];
    const metas = await jsm.streams.info(stream, { subjects_filter: `$O.${env.names.pcapsBucket}.M.>` });
    for (const subject of Object.keys(metas.state.subjects ?? {})) {
      const meta = (await jsm.streams.getMessage(stream, { last_by_subj: subject }))?.json<{ name: string; deleted?: boolean }>();
      if (meta && !meta.deleted) names.push(meta.name);
    }
    return { chunkSets: Object.keys(chunks.state.subjects ?? {}).length, names };
  });
}

/** A 503 in the seed's shape, and once quorum is back, nothing of it stored. */
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

async function assertNothingStored(env: ClusterEnv, jobId: string, chunkSetsBefore: number): Promise<void> {
  assert.equal(await jobStatus(env.api.url, jobId), null, "no job record");
  assert.equal((await fetch(`${env.api.url}/jobs/${jobId}`)).status, 404);
  // Chunks written before quorum was lost cannot be deleted without it: the api's sweep of
  // interrupted uploads removes them once the upload time limit has passed.
  let now: { chunkSets: number; names: string[] } | null = null;
  // The sweep may also remove chunk sets other refused uploads left, so "no more than before".
  const clean = (): boolean => now !== null && now.chunkSets <= chunkSetsBefore && !now.names.some((n) => n.startsWith(`${jobId}/`));
  await eventually(async () => ((now = await captureStore(env)), clean()), SWEPT_WITHIN_MS, "no capture or chunk of the refused upload left").catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(now)}, ${chunkSetsBefore} chunk sets before`);
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
  /** ms from the end of the fault (nodes back, replicas current) to the job's `done`; 0 if it was done before. */
  doneAfterMs: number;
  syslogRepeats: number;
}

export interface ScenarioResult {
  fault: string;
  phases: PhaseResult[];
  /** How the half-sent upload (and, without quorum, a new one) was answered. */
  upload: string;
}

/**
 * One fault, landing on three fresh jobs at once, each in another phase: one half uploaded, one
 * whose captures are in Zeek, one whose lines are being shipped (asserted at the moment of the
 * fault). The jobs share nothing but the cluster, so each job's checks stand on their own.
 * Asserted per job: `done` within DONE_WITHIN_MS of the fault's end, no capture failed, the
 * directory has every line once, rsyslog misses none; every service process is still the one
 * started; and without quorum an upload is refused with a 503 and leaves nothing stored.
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
  const caps = {
    upload: await writeCaptures(env.dataDir, FLOWS.upload, `${slug}-u`),
    zeek: await writeCaptures(env.dataDir, FLOWS.zeek, `${slug}-z`),
    shipping: await writeCaptures(env.dataDir, FLOWS.shipping, `${slug}-s`),
  };
  const tags = { upload: `${slug}-upload`, zeek: `${slug}-zeek`, shipping: `${slug}-shipping` };
  const jobs: Partial<Record<Phase, string>> = {};

  // The shippers ship faster than Zeek analyses, so they are paused (SIGSTOP, never restarted)
  // while the shipping job is analysed and the Zeek job starts; let go, they are mid-way through
  // the shipping job's lines while the Zeek job's captures are still in Zeek.
  const shippers = env.services.filter((s) => s.kind === "shipper");
  for (const s of shippers) process.kill(s.pid, "SIGSTOP");
  try {
    jobs.shipping = await submitJob(env.api.url, caps.shipping, tags.shipping);
    await waitForJobState(env.api.url, jobs.shipping, (j) => j.state === "done", "the shipping job analysed", 60_000, report);
    jobs.zeek = await submitJob(env.api.url, caps.zeek, tags.zeek);
    await waitForJobState(env.api.url, jobs.zeek, (j) => j.files.some((f) => f.state === "running"), "the Zeek job in Zeek", 30_000, report);
  } finally {
    for (const s of shippers) process.kill(s.pid, "SIGCONT");
  }
  await waitForLines(async () => (await directoryConn(env, jobs.shipping!)).lines.length, 300, "the shipping job's lines in the directory", report);
  const chunkSetsBefore = (await captureStore(env))!.chunkSets;
  const paused = await pausedUpload(env.api.url, caps.upload, tags.upload);
  const zeekJob = await jobStatus(env.api.url, jobs.zeek);
  const shipped = (await directoryConn(env, jobs.shipping)).lines.length;
  await fault.begin(env);
  let faultEnded = false;
  const endFault = async (): Promise<void> => {
    await fault.end(env);
    faultEnded = true;
  };
  try {
    assert.ok(zeekJob?.files.some((f) => f.state === "running") && zeekJob.files.every((f) => f.state !== "done"), `the fault landed while Zeek ran: ${JSON.stringify(zeekJob?.files)}`);
    assert.ok(shipped < total(FLOWS.shipping), "the fault landed while the lines were shipped");

    let upload: string;
    const res = await paused.finish();
    assert.ok(res, "the api answered the upload");
    const body = JSON.parse(res.body) as Record<string, unknown>;
    // Without quorum nothing can be stored: the half-sent upload and a new one must get a 503. With
    // one node lost, an upload whose api was connected to it (or whose store request was in
    // flight on it) may get the same 503; either way a 503 leaves nothing and a retry succeeds.
    if (fault.quorumLost || res.status === 503) {
      const refusedIds = [assertRefused(res.status, body, caps.upload.map((c) => basename(c.path)), tags.upload, env.api.output)];
      if (fault.quorumLost) {
        const one = caps.upload[0]!;
        const fresh = await submit(env.api.url, [one.path], `${tags.upload}-new`);
        refusedIds.push(assertRefused(fresh.httpStatus, fresh.body as unknown as Record<string, unknown>, [basename(one.path)], `${tags.upload}-new`, env.api.output));
      }
      await endFault();
      for (const id of refusedIds) await assertNothingStored(env, id, chunkSetsBefore);
      upload = fault.quorumLost ? "503 (and 503 for a new upload); nothing stored; retried after: 200" : "503; nothing stored; retried after: 200";
      jobs.upload = await submitJob(env.api.url, caps.upload, tags.upload); // the client tries again, as the answer says
    } else {
      assert.equal(res.status, 200, `upload during "${fault.describe()}": ${res.body}`);
      upload = "200";
      jobs.upload = String(body.job_id);
      await endFault();
    }
    const faultEndedAt = Date.now();

    const phases: PhaseResult[] = [];
    for (const phase of ["upload", "zeek", "shipping"] as const) {
      const jobId = jobs[phase]!;
      const flows = FLOWS[phase];
      const final = (j: JobStatus): boolean => j.state !== "queued" && j.state !== "running";
      const job = await waitForJobState(env.api.url, jobId, final, `${phase} job ${jobId} final`, Math.max(1_000, faultEndedAt + DONE_WITHIN_MS - Date.now()), report);
      const doneAfterMs = Math.max(0, Date.now() - faultEndedAt);
      assert.equal(job.state, "done", `${phase} job after "${fault.describe()}": ${JSON.stringify(job.files)}`);
      assert.deepEqual(
        job.files.map((f) => [f.state, f.lines.conn]),
        flows.map((n) => ["done", n]),
        `${phase} job: no capture given up, every line counted`,
      );
      phases.push({ phase, attempts: job.files.map((f) => f.attempts), doneAfterMs, syslogRepeats: 0 });
    }
    await waitForQuiet(env, SINKS);
    for (const p of phases) {
      const dir = await directoryDelivery(env, jobs[p.phase]!, caps[p.phase]);
      const syslog = await syslogDelivery(env, tags[p.phase], caps[p.phase]);
      p.syslogRepeats = syslog.duplicates;
      t.diagnostic(`${fault.describe()}, ${p.phase} job: attempts ${JSON.stringify(p.attempts)}; done ${p.doneAfterMs} ms after; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
      assert.deepEqual(
        { missing: dir.missing, duplicates: dir.duplicates, received: dir.received, malformed: dir.malformed, headerBlocks: dir.headerBlocks },
        { missing: 0, duplicates: 0, received: total(FLOWS[p.phase]), malformed: 0, headerBlocks: 1 },
        `${p.phase} job: every line once in the directory`,
      );
      assert.equal(syslog.missing, 0, `${p.phase} job: nothing missing at rsyslog`);
      assert.equal(syslog.malformed, 0);
    }
    for (const s of env.services) assert.equal(await Promise.race([s.exited.then(() => "exited"), Promise.resolve("running")]), "running", `${s.name} still running, never restarted`);
    return { fault: fault.describe(), phases, upload };
  } finally {
    // Leave the cluster whole for the next scenario, whatever failed here.
    if (!faultEnded) await fault.end(env).catch(() => undefined);
  }
}
