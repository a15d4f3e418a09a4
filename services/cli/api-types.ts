// The JSON the HTTP API answers with, as the client reads it: the output types of the api's own
// zod schemas, so client and server cannot drift apart. Type-only imports: the CLI and the web
// page (which reuses these) load none of the server's code, not even zod; only the lists of
// states (and isFinal) come along at run time, from a module that imports nothing.
import type { z } from "zod";
import type { jobEventSchema } from "../../shared/events/job-event-schema.js";
import type { fileRecordSchema } from "../../shared/jobs/job-record.js";
import type { capturePageSchema, jobStatusSchema } from "../../shared/jobs/job-status-schema.js";
import type { jobList, submitResponse } from "../api/schemas.js";

export { fileStates as FILE_STATES, isFinal, jobStates as JOB_STATES, type FileState, type JobState } from "../../shared/jobs/job-states.js";

/** `GET /jobs/:id` (and the first `status` event of its event stream): summary and first page of captures. */
export type Job = z.output<typeof jobStatusSchema>;

/** One capture of a job. */
export type JobFile = z.output<typeof fileRecordSchema>;

/** Log lines per log type (`conn`, `dns`, …). */
export type LineCounts = JobFile["lines"];

/** Delivery progress of one sink instance for a job, with the lines its routing accepts. */
export type SinkProgress = Job["sinks"][string];

/** Captures in a job (total) and in each state. */
export type CaptureCounts = Job["counts"];

/** `GET /jobs/:id/captures`: a page of captures, `next_cursor` null on the last. */
export type CapturePage = z.output<typeof capturePageSchema>;

/** `GET /jobs`: newest first, `next_cursor` null on the last page. */
export type JobList = z.output<typeof jobList>;

/** One row of `GET /jobs`. */
export type JobListItem = JobList["jobs"][number];

/** `POST /submit/pcap` on success (the same shape says `success: false` and why otherwise). */
export type SubmitAnswer = z.output<typeof submitResponse> & { success: true; job_id: string };

/** The data of every event on `GET /jobs/:id/events` after the first `status` event. */
export type JobEvent = z.output<typeof jobEventSchema>;
