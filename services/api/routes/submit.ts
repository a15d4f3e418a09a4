import type { Readable } from "node:stream";
import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";
import type { JobRecord } from "../../../shared/jobs/job-record.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { newJobId } from "../../../shared/jobs/job-id.js";
import { JobEvents } from "../../../shared/events/job-events.js";
import { taskMsgId, type Task } from "../../../shared/messages/task.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { toFailure } from "../failure.js";
import type { RouteDoc } from "../route-doc.js";
import { submitResponse } from "../schemas.js";
import { safeFileName } from "../upload/file-name.js";
import { storeCapture, type StoredCapture } from "../upload/store-capture.js";

const FILE_FIELDS = new Set(["file[]", "file"]);

export const submitDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/submit/pcap",
    summary: "Submit captures (multipart `file[]` or `file`, optional `tag`) as one job; byte-compatible with the original brocapi",
    responses: {
      200: { description: "Job queued", schema: submitResponse },
      400: { description: "No capture in the request, or a malformed body", schema: submitResponse },
      413: { description: "Over a size or count limit", schema: submitResponse },
      415: { description: "Not multipart, or a file that is not a pcap/pcapng capture", schema: submitResponse },
      503: { description: "NATS unavailable; nothing stored", schema: submitResponse },
    },
  },
];

interface Stored extends StoredCapture {
  name: string;
}

/** Reads and discards a part the submission does not use, so the parser can go on. */
async function discard(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

/**
 * `POST /submit/pcap`, byte-compatible with the seed: captures in `file[]` (or `file`), optional
 * `tag`. Every capture is streamed into the object store; only when all are stored are the job
 * record and one task per capture created. On any failure the stored captures are deleted and
 * the answer keeps the seed's JSON shape with `success: false`.
 */
export function submitRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const { topology, config } = ctx;
  const jobs = new JobStore(topology.jobs);
  const js = jetstream(ctx.nc);
  const events = new JobEvents(js, topology.names, ctx.log);

  app.post("/submit/pcap", async (req, reply) => {
    const jobId = newJobId();
    let tag: string | null = null;
    const stored: Stored[] = [];
    try {
      if (!req.isMultipart()) {
        throw new UploadError(ErrorCodes.UPLOAD_NOT_MULTIPART, "request is not multipart/form-data: send captures as file[] parts", 415);
      }
      for await (const part of req.parts()) {
        if (part.type === "field") {
          if (part.fieldname === "tag") tag = String(part.value);
          continue;
        }
        // A browser form with no file chosen sends an empty, nameless part: not a capture, not an error.
        if (!FILE_FIELDS.has(part.fieldname) || part.filename === "") {
          await discard(part.file);
          continue;
        }
        const index = stored.length;
        const name = safeFileName(part.filename, index);
        const capture = await storeCapture(topology.pcaps, `${jobId}/${index}`, name, part.file);
        stored.push({ ...capture, name });
        req.log.info({ event: "upload.stored", job: jobId, pcap: name, bytes: capture.size, sha256: capture.sha256 }, "capture stored");
      }
      if (stored.length === 0) {
        throw new UploadError(ErrorCodes.UPLOAD_NO_FILES, "no pcaps supplied: send captures as file[] parts", 400);
      }
      const job: JobRecord = {
        id: jobId,
        tag,
        state: "queued",
        format: config.zeek.format,
        submittedAt: new Date().toISOString(),
        files: stored.map((s, index) => ({ index, name: s.name, object: s.object, size: s.size, sha256: s.sha256, state: "queued", attempts: 0, lines: {} })),
      };
      // The record exists before any task, so a worker never meets a job it cannot update.
      await jobs.create(job);
      await events.publish(jobId, { type: "job.queued", files: stored.map((s) => s.name) });
      for (const [fileIndex, s] of stored.entries()) {
        const task: Task = { jobId, tag, fileIndex, fileName: s.name, object: s.object, size: s.size, sha256: s.sha256 };
        await js.publish(topology.names.tasksSubject(jobId), JSON.stringify(task), { msgID: taskMsgId(task) });
      }

    } catch (err) {
      await Promise.all(stored.map((s) => topology.pcaps.delete(s.object).catch(() => undefined)));
      await topology.jobs.delete(jobId).catch(() => undefined);
      const failure = toFailure(err, config.http);
      req.log.warn({ event: "upload.rejected", job: jobId, code: failure.code, err: (err as Error).message }, failure.status);
      return reply.code(failure.httpStatus).send({ status: failure.status, files: stored.map((s) => s.name), tag, job_id: jobId, success: false, code: failure.code });
    }
    req.log.info({ event: "job.queued", job: jobId, files: stored.length, tag }, "job queued");
    return { status: "job queued", files: stored.map((s) => s.name), tag, job_id: jobId, success: true };
  });
}
