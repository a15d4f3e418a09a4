/**
 * Every stream, bucket, consumer and subject name, derived from one configurable prefix so that
 * several installs can share a NATS account without colliding.
 */
export interface Names {
  /** Work-queue stream of analysis tasks, one message per uploaded capture. */
  tasksStream: string;
  tasksSubject(jobId: string): string;
  tasksFilter: string;
  /** Durable pull consumer shared by every Zeek worker. */
  workerConsumer: string;
  /** Limits-retention stream of log line batches. */
  logsStream: string;
  /** `<prefix>.logs.<log type>.<job id>`: a sink filters by type, a reader by job. */
  logSubject(logType: string, jobId: string): string;
  logsFilter: string;
  logsOfJob(jobId: string): string;
  /** Durable consumer of one sink instance; processes of that instance share it. */
  sinkConsumer(name: string): string;
  /** Work-queue stream of replay requests, `<prefix>.replay.<sink name>`: each instance takes its own. */
  replayStream: string;
  replaySubject(sink: string): string;
  replayFilter: string;
  /** Durable consumer of one sink instance's replay requests. */
  replayConsumer(sink: string): string;
  /** Limits-retention stream of job lifecycle events, `<prefix>.events.<job id>`. */
  eventsStream: string;
  eventsSubject(jobId: string): string;
  eventsFilter: string;
  /** Limits-retention stream of the job index (one message per job) and the set of unfinished jobs. */
  jobsStream: string;
  jobsFilter: string;
  /** `<prefix>.jobs.index`: one message per job, in submission order; `GET /jobs` pages it backwards. */
  jobIndexSubject: string;
  /** `<prefix>.jobs.active.<job>`: present while the job is not finished; the reconciler lists these. */
  jobActiveSubject(jobId: string): string;
  jobActiveFilter: string;
  /** `<prefix>.jobs.layout`: written once the jobs bucket holds only current-layout records. */
  jobLayoutSubject: string;
  jobsBucket: string;
  pcapsBucket: string;
  /** KV of sink health: the last error of each sink process. */
  sinksBucket: string;
  /** KV index of finished analyses by capture SHA-256, for reusing logs of a capture seen before. */
  analysesBucket: string;
}

export function natsNames(prefix: string): Names {
  const stream = prefix.toUpperCase().replace(/-/g, "_");
  return {
    tasksStream: `${stream}_TASKS`,
    tasksSubject: (jobId) => `${prefix}.tasks.${jobId}`,
    tasksFilter: `${prefix}.tasks.>`,
    workerConsumer: `${prefix}-zeek-workers`,
    logsStream: `${stream}_LOGS`,
    logSubject: (logType, jobId) => `${prefix}.logs.${logType}.${jobId}`,
    logsFilter: `${prefix}.logs.>`,
    logsOfJob: (jobId) => `${prefix}.logs.*.${jobId}`,
    sinkConsumer: (name) => `${prefix}-sink-${name}`,
    replayStream: `${stream}_REPLAYS`,
    replaySubject: (sink) => `${prefix}.replay.${sink}`,
    replayFilter: `${prefix}.replay.>`,
    replayConsumer: (sink) => `${prefix}-replay-${sink}`,
    eventsStream: `${stream}_EVENTS`,
    eventsSubject: (jobId) => `${prefix}.events.${jobId}`,
    eventsFilter: `${prefix}.events.>`,
    jobsStream: `${stream}_JOBS`,
    jobsFilter: `${prefix}.jobs.>`,
    jobIndexSubject: `${prefix}.jobs.index`,
    jobActiveSubject: (jobId) => `${prefix}.jobs.active.${jobId}`,
    jobActiveFilter: `${prefix}.jobs.active.>`,
    jobLayoutSubject: `${prefix}.jobs.layout`,
    jobsBucket: `${prefix}-jobs`,
    pcapsBucket: `${prefix}-pcaps`,
    sinksBucket: `${prefix}-sinks`,
    analysesBucket: `${prefix}-analyses`,
  };
}
