// The counts a job reports, read in one place so the assertions that compare them with what
// actually arrived survive changes of the job record's layout.

import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { JobStatus } from "../../shared/jobs/job-status.js";

/** Lines the workers published for the job, all captures and log types together. */
export function publishedLines(job: JobStatus): number {
  return Object.values(job.lines).reduce((a, b) => a + b, 0);
}

/** Lines the job's record says a sink instance delivered (acked); 0 before its first count. */
export function deliveredLines(job: JobStatus, sink: string): number {
  return job.sinks[sink]?.lines ?? 0;
}

/** The value of one sample in Prometheus text, e.g. `brocapi_lines_delivered_total{sink="directory"}`; 0 when absent. */
export function metricValue(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** `brocapi_lines_delivered_total{sink}` as the process serving `metricsUrl` (its `/metrics`) counts it. */
export async function linesDeliveredMetric(metricsUrl: string, sink: string): Promise<number> {
  return metricValue(await (await fetch(metricsUrl)).text(), `brocapi_lines_delivered_total{sink="${sink}"}`);
}

/** Data lines (not header or #close lines) in every log file the directory sink wrote for a job. */
export async function directoryDataLines(root: string, jobId: string): Promise<number> {
  const dir = join(root, jobId);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".log"));
  let n = 0;
  for (const f of files) n += (await readFile(join(dir, f), "utf8")).split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  return n;
}
