// Job ids and the states of jobs and captures, apart from any schema: the CLI and the web page load this
// at run time (a list to validate a filter with) without loading zod or any server code.

export const fileStates = ["queued", "running", "done", "failed"] as const;
export const jobStates = ["queued", "running", "done", "failed", "partial"] as const;
export type FileState = (typeof fileStates)[number];
export type JobState = (typeof jobStates)[number];

export function isFinal(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "partial";
}

export function isFileFinal(state: FileState): boolean {
  return state === "done" || state === "failed";
}

/** Any RFC 4122/9562 UUID, as job ids are (v7 now; v4 from earlier versions). */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
