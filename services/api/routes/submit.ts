import { metrics } from "../../../shared/metrics/registry.js";
import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import { deleteJob } from "../../../shared/jobs/delete-job.js";
import { removeObjects } from "../../../shared/objects/remove-objects.js";
import type { FileRecord, JobHeader } from "../../../shared/jobs/job-record.js";
import { inWindows } from "../../../shared/concurrency/in-windows.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { shardCount } from "../../../shared/jobs/job-shards.js";
import { announceFinished } from "../../../shared/jobs/finish-file.js";
import { newJobId } from "../../../shared/jobs/job-id.js";
import { JobEvents, QUEUED_NAMES_MAX } from "../../../shared/events/job-events.js";
import { taskMsgId, type Task } from "../../../shared/messages/task.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { checkTagScope } from "../auth/access.js";
import { toFailure } from "../failure.js";
import type { RouteDoc } from "../route-doc.js";
import { submitResponse } from "../schemas.js";
import { noFiles, readForm, type Submission } from "../upload/read-form.js";
import { checkOneLinkType } from "../upload/job-options.js";
import { UploadBody } from "../upload/upload-body.js";
import { DEFAULT_PROFILE } from "../../../shared/config/zeek-profile.js";
import { shardsFor } from "../upload/shard-option.js";

/** Tasks of one submission awaiting their PubAck at once: 10,000 captures queue in about a second. */
const TASK_WINDOW = 256;

export const submitDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/submit/pcap",
    summary: "Submit captures (multipart `file[]` or `file`, optional `tag`, `profile`, `merge`, and `shards`: `auto` or a number) as one job; byte-compatible with the original brocapi",
    roles: ["submit"],
    responses: {
      200: { description: "Job queued", schema: submitResponse },
      400: { description: "No capture in the request, a malformed or cut-off body, a `profile` the server does not offer, `merge=true` with captures of different link types, or a `shards` value that is not `auto` or 1 … `sharding.max`", schema: submitResponse },
      408: { description: "The upload took longer than `http.uploadTimeoutMs`; nothing stored", schema: submitResponse },
      413: { description: "Over a size or count limit (per file, files per submission, bytes per submission, tag)", schema: submitResponse },
      415: { description: "Not multipart, or a file that is not a pcap/pcapng capture", schema: submitResponse },
      503: { description: "NATS unavailable; nothing stored", schema: submitResponse },
      507: { description: "The capture store is full (`nats.pcapRetentionBytes` reached): `BROCAPI_STORE_FULL`, nothing stored", schema: submitResponse },
    },
  },
];

/**
 * `POST /submit/pcap`, byte-compatible with the seed: captures in `file[]` (or `file`), optional
 * `tag`. Every capture is streamed into the object store; only when all are stored are the job's
 * records and one task per capture created: the job is marked unfinished (so the reconciler
 * sees it whatever happens next), its capture records are written, its tasks queued, and last its
 * header and index entry: a job has a header only once all its tasks are queued. On any
 * failure what was stored is deleted, the rest
 * of the body is dealt with (read and discarded, or the connection closed after a time-out) and
 * the answer keeps the seed's JSON shape with `success: false`.
 */
export function submitRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const { topology, config } = ctx;
  const jobs = new JobStore(topology);
  const js = jetstream(ctx.nc);
  const events = new JobEvents(js, topology.names, ctx.log);

  app.post("/submit/pcap", async (req, reply) => {
    const jobId = newJobId();
    const body = new UploadBody(req.raw, config.http.uploadTimeoutMs);
    const submission: Submission = { tag: null, profile: null, merge: false, shards: null, stored: [], ignored: new Set() };
    const { stored } = submission;
    // From the first attempt to write the record on, undoing means deleting the whole job: record, tasks, events.
    let recorded = false;
    let headed = false;
    try {
      if (!req.isMultipart()) {
        throw new UploadError(ErrorCodes.UPLOAD_NOT_MULTIPART, "request is not multipart/form-data: send captures as file[] parts", 415);
      }
      await readForm(req, body, submission, { bucket: topology.pcapBucket, jobId, limits: { ...config.http, maxShards: config.sharding.max }, checkTag: (tag) => checkTagScope(req.principal, tag), profiles: Object.keys(config.zeek.profiles) });
      if (stored.length === 0) throw noFiles(submission);
      // Taken before any task is queued: a worker may record a capture's start before the header is written.
      const submittedAt = new Date().toISOString();
      const { tag, merge } = submission;
      const profile = submission.profile ?? DEFAULT_PROFILE;
      if (merge) checkOneLinkType(stored);
      checkTagScope(req.principal, tag);
      // Merge mode shards the recording, which capture 0's tasks read whole: judged on its total size.
      const recordingSize = stored.reduce((n, s) => n + s.size, 0);
      const files: FileRecord[] = stored.map((s, index) => {
        const shards = merge && index > 0 ? 1 : shardsFor(submission.shards, merge ? recordingSize : s.size, config.sharding);
        return { index, name: s.name, object: s.object, size: s.size, sha256: s.sha256, ...(s.compressed ? { compressed: s.compressed } : {}), state: "queued", attempts: 0, lines: {}, ...(shards > 1 ? { shards: { count: shards, states: "q".repeat(shards) } } : {}) };
      });
      recorded = true;
      await jobs.index.markActive(jobId);
      await jobs.createCaptures(jobId, files);
      await events.publish(jobId, { type: "job.queued", files: stored.slice(0, QUEUED_NAMES_MAX).map((s) => s.name), count: stored.length });
      // Merge mode: one task for the recording, on capture 0, which reads every capture of the job.
      // A sharded capture is one task per shard: each is queued, retried and analysed on its own;
      // a sharded recording's shards are capture 0's.
      const tasks = (merge ? files.slice(0, 1) : files).flatMap((f): Task[] => {
        const task: Task = { jobId, tag, fileIndex: f.index, fileName: f.name, object: f.object, size: f.size, sha256: f.sha256, files: files.length, profile, ...(merge ? { merge } : {}) };
        return f.shards ? Array.from({ length: f.shards.count }, (_, index) => ({ ...task, shard: { index, count: f.shards!.count } })) : [task];
      });
      await inWindows(tasks, TASK_WINDOW, (task) => js.publish(topology.names.tasksSubject(jobId), JSON.stringify(task), { msgID: taskMsgId(task) }));
      const header: JobHeader = {
        layout: 2,
        id: jobId,
        tag,
        state: "queued",
        format: config.zeek.format,
        submittedAt,
        files: files.length,
        shards: shardCount(files.length),
        profile,
        ...(merge ? { merge } : {}),
        ...(submission.shards !== null ? { analysisShards: submission.shards } : {}),
      };
      await jobs.createHeader(header);
      headed = true;
      await jobs.index.add(jobId);
      // Workers may have finished every capture before the header existed: then the job ends here.
      const { finishedNow, summary } = await jobs.refresh(jobId);
      if (finishedNow && summary) {
        metrics.jobsFinished.inc({ state: summary.state });
        // Not fatal to the submission: until announced, the job stays where the reconciler looks.
        await announceFinished(jobs, events, jobId, summary.state).catch(() => undefined);
      }
    } catch (err) {
      // Removed before the answer, so a refused upload has left nothing when the client hears of it
      // (what a failed delete leaves, the sweep of interrupted uploads removes later). Records and
      // tasks go first, so no worker takes a task whose capture is gone; once the header names
      // the captures, deleteJob removes them too.
      if (recorded) await deleteJob(topology, jobId).catch(() => undefined);
      const left = headed ? 0 : await removeObjects(topology.pcaps, stored.map((s) => s.object));
      const failure = toFailure(err, config.http);
      metrics.uploads.inc({ result: "rejected" });
      req.log.warn({ event: "upload.rejected", job: jobId, code: failure.code, err: (err as Error).message, ...(left ? { notRemoved: left } : {}) }, failure.status);
      body.refused(reply);
      if (failure.challenge) void reply.header("www-authenticate", failure.challenge);
      return reply
        .code(failure.httpStatus)
        .send({ status: failure.status, files: stored.map((s) => s.name), tag: submission.tag, job_id: jobId, success: false, code: failure.code });
    }
    metrics.uploads.inc({ result: "accepted" });
    metrics.uploadBytes.inc({}, stored.reduce((n, s) => n + s.size, 0));
    req.log.info({ event: "job.queued", job: jobId, files: stored.length, tag: submission.tag }, "job queued");
    return { status: "job queued", files: stored.map((s) => s.name), tag: submission.tag, job_id: jobId, success: true };
  });
}
