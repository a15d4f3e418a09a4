import { FILE_STATES, type CaptureCounts, type Job, type JobEvent, type JobFile, type JobListItem, type JobState, type LineCounts, type SinkProgress } from "./api-types.js";
import { published, sinkExpected } from "./delivery.js";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** `3 captures`, `1 capture`: `n` and the noun, its plural `many` (an `s` added unless given). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `27.0 MiB`: binary units, one decimal above bytes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `350 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/**
 * Text from the server or the submitter (tags, Zeek's stderr) with control characters replaced,
 * so it cannot move the cursor or recolour the terminal it is printed on.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** `conn 700, dns 12`, log types in name order; `no lines` for none. */
export function formatLineCounts(counts: LineCounts): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "no lines" : entries.map(([type, n]) => `${printable(type)} ${n}`).join(", ");
}

/** Columns padded to their widest cell, two spaces apart, for a terminal. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n") + "\n";
}

/** One line per row, cells separated by tabs (a tab or line break inside a cell becomes a space), for `cut` and `awk`. */
export function formatTsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map((cell) => cell.replace(/[\t\r\n]/g, " ")).join("\t") + "\n").join("");
}

/** Column names of `brocapi jobs`, matching jobRow. */
export const JOB_COLUMNS = ["ID", "STATE", "TAG", "FILES", "SUBMITTED", "FINISHED"] as const;

/** One `GET /jobs` entry as the cells of JOB_COLUMNS; `-` where a value is absent. */
export function jobRow(job: JobListItem): string[] {
  return [job.id, job.state, job.tag === null ? "-" : printable(job.tag), String(job.files), job.submittedAt, job.finishedAt ?? "-"];
}

function firstLine(text: string): string {
  return printable(text.split("\n").find((l) => l.trim() !== "") ?? "");
}

/** Why a capture failed, in one line: Zeek's exit code and first stderr line, else the error. */
function failureReason(file: JobFile): string {
  if (file.zeekExitCode !== undefined) {
    const stderr = file.zeekStderr ? firstLine(file.zeekStderr) : "";
    return `Zeek exited ${file.zeekExitCode}${stderr ? `: ${stderr}` : ""}`;
  }
  return file.error ? `${file.error.code}: ${firstLine(file.error.message)}` : "no reason recorded";
}

/** A sharded capture's shards by state: `shards 2/4 done, 1 running, 1 failed`. */
function shardProgress(shards: NonNullable<JobFile["shards"]>): string {
  const count = (c: string): number => shards.states.split("").filter((s) => s === c).length;
  const extra = [[count("r"), "running"], [count("q"), "queued"], [count("f"), "failed"]].filter(([n]) => n !== 0).map(([n, what]) => `, ${n} ${what}`);
  return `shards ${count("d")}/${shards.count} done${extra.join("")}`;
}

/** One capture in one line: index, name, size (and what was sent, if compressed), state, then what became of it. */
export function formatCapture(file: JobFile): string {
  const parts = [`[${file.index}] ${printable(file.name)}`, formatBytes(file.size)];
  if (file.compressed) parts.push(`sent ${file.compressed.encoding}-compressed, ${formatBytes(file.compressed.size)}`);
  parts.push(file.state);
  if (file.durationMs !== undefined) parts.push(formatDuration(file.durationMs));
  if (file.attempts > 1) parts.push(`${file.attempts} attempts`);
  if (file.shards) parts.push(shardProgress(file.shards));
  if (file.reusedFrom) parts.push(`reused from job ${file.reusedFrom.jobId} [${file.reusedFrom.fileIndex}]`);
  if (file.salvaged) {
    const s = file.salvaged;
    parts.push(`salvaged: cut mid-packet, analysed ${s.packetsKept} packets (${formatBytes(s.bytesKept)}), dropped ${formatBytes(s.bytesDropped)}`);
  }
  if (file.mergedInto !== undefined) parts.push(`analysed with [${file.mergedInto}] as one recording`);
  else if (file.state === "failed") parts.push(failureReason(file));
  else if (file.state === "done") parts.push(formatLineCounts(file.lines));
  if (file.analysedBy) parts.push(`by ${printable(file.analysedBy.worker)} (host ${printable(file.analysedBy.host)}, pid ${file.analysedBy.pid})`);
  return `  ${parts.join("  ")}`;
}

/** `3 (2 done, 1 failed)`: the total, then each state that has captures. */
function formatCounts(counts: CaptureCounts): string {
  const states = FILE_STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return `${counts.total}${states.length > 0 ? ` (${states.join(", ")})` : ""}`;
}

/**
 * What `brocapi job <id>` and the end of `submit --wait` print above the captures: the job, its
 * times, its counts of captures, lines and each sink. Its size does not depend on the number of captures.
 */
export function formatJobHeader(job: Job): string {
  const out = [`job ${job.id}  ${job.state}${job.tag === null ? "" : `  tag ${printable(job.tag)}`}  format ${job.format}  profile ${printable(job.profile)}${job.merge ? "  merged recording" : ""}`];
  const times = [`submitted ${job.submittedAt}`];
  if (job.finishedAt) times.push(`finished ${job.finishedAt}`);
  if (job.startedAt && job.finishedAt) times.push(`took ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}`);
  out.push(times.join("  "));
  out.push(`captures: ${formatCounts(job.counts)}`);
  out.push(`lines: ${formatLineCounts(job.lines)}`);
  const sinks = Object.entries(job.sinks).sort(([a], [b]) => a.localeCompare(b));
  out.push(sinks.length === 0 ? "sinks: none reported" : "sinks:");
  const total = published(job);
  for (const [kind, sink] of sinks) {
    const error = sink.lastError ? `  last error${sink.lastErrorAt ? ` at ${sink.lastErrorAt}` : ""}: ${firstLine(sink.lastError)}` : "";
    const stopped = formatNotRunning(sink);
    out.push(`  ${printable(kind)}  ${sink.lines} of ${sinkExpected(sink, total)} lines delivered${stopped ? `  ${stopped}` : ""}${error}`);
    if (sink.audit) out.push(`    ${formatSinkAudit(job.id, kind, sink.audit)}`);
  }
  return out.join("\n") + "\n";
}

/** What the sink's audit found (docs/SINKS.md, "The audit"), and the repair: queued, or the command to run. */
export function formatSinkAudit(jobId: string, sink: string, audit: NonNullable<SinkProgress["audit"]>): string {
  const repair = audit.action === "replay" ? "replay queued automatically" : `not replayed (autoReplay off): brocapi replay ${jobId} --sink ${printable(sink)}`;
  return `audit at ${audit.at}: ${audit.missing} lines missing with nothing pending; ${repair}`;
}

/**
 * One sink's delivery of a job in one line, for its `lines.delivered` event and for the counts
 * `submit --wait` reads after the analysis (then with the lines the sink's routing accepts, sinkExpected):
 * `sink directory: 7 of 9 lines delivered, 2 rejected, 3 replayed (last error: …)`.
 */
export function formatSinkProgress(sink: string, progress: Pick<SinkProgress, "lines" | "rejected" | "replayed" | "lastError" | "running" | "seenAt">, expected?: number): string {
  const of = expected === undefined ? "" : ` of ${expected}`;
  const rejected = progress.rejected ? `, ${progress.rejected} rejected` : "";
  const replayed = progress.replayed ? `, ${progress.replayed} replayed` : "";
  const stopped = formatNotRunning(progress);
  return `sink ${printable(sink)}: ${progress.lines}${of} lines delivered${rejected}${replayed}${progress.lastError ? ` (last error: ${firstLine(progress.lastError)})` : ""}${stopped ? `; ${stopped}: not waited for, what it owes ships when it runs again` : ""}`;
}

/** `not running, last seen at …` for a sink instance the api knows to have stopped (`running: false`), else "". */
export function formatNotRunning(progress: Pick<SinkProgress, "running" | "seenAt">): string {
  return progress.running === false ? `not running, last seen at ${progress.seenAt ? printable(progress.seenAt) : "an unknown time"}` : "";
}

/** The line that says a job ended: for its `job.finished` event, or its final status when its events are not read. */
export function formatJobEnd(state: JobState): string {
  return `job ${state}`;
}

/** One line for an event of `GET /jobs/:id/events`. */
export function formatEvent(event: JobEvent): string {
  switch (event.type) {
    case "job.queued": {
      // A big job's event names only its first captures; `count` says how many there are.
      const more = (event.count ?? event.files.length) - event.files.length;
      return `queued: ${event.files.map(printable).join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
    }
    case "file.started":
      return `[${event.fileIndex}] ${printable(event.name)}: Zeek running${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`;
    case "file.finished":
      return event.state === "done"
        ? `[${event.fileIndex}] ${printable(event.name)}: done, ${formatLineCounts(event.lines)}`
        : `[${event.fileIndex}] ${printable(event.name)}: failed${event.error ? `, ${event.error.code}: ${firstLine(event.error.message)}` : ""}`;
    case "file.warning":
      return `[${event.fileIndex}] ${printable(event.name)}: warning: ${firstLine(event.message)}`;
    case "lines.delivered":
      return formatSinkProgress(event.sink, event);
    case "job.finished":
      return formatJobEnd(event.state);
  }
}
