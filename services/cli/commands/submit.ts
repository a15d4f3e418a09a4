import { basename } from "node:path";
import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ApiError, CliError, ExitCode, UsageError } from "../errors.js";
import { findCaptures, type FoundCaptures, type FoundFile } from "../find-captures.js";
import { followJob, waitForDelivery } from "../follow-job.js";
import { ErrorCodes } from "../../../shared/errors.js";
import { plural, printable } from "../format.js";
import { DEFAULT_LISTING, printJobView } from "../job-view.js";
import { multipartBody, type MultipartBody } from "../multipart.js";
import { uploadProgress } from "../progress.js";

/** Paths named in a skip notice before `and N more`. */
const NAMES_SHOWN = 5;

function someOf(paths: readonly string[]): string {
  const shown = paths.slice(0, NAMES_SHOWN).map(printable).join(", ");
  return paths.length > NAMES_SHOWN ? `${shown} and ${paths.length - NAMES_SHOWN} more` : shown;
}

/** Says on stderr what was found in folders and globs and left out, so nothing is dropped silently. */
function reportSkipped(found: FoundCaptures, err: NodeJS.WritableStream): void {
  const odd = found.notCaptures.length;
  if (odd > 0) err.write(`skipped ${plural(odd, "file that is not a capture", "files that are not captures")}: ${someOf(found.notCaptures)}\n`);
  if (found.empty.length > 0) err.write(`skipped ${plural(found.empty.length, "empty file")}: ${someOf(found.empty)}\n`);
  if (found.unreadable.length > 0) err.write(`skipped ${plural(found.unreadable.length, "unreadable file")}: ${someOf(found.unreadable.map((u) => `${u.path} (${u.reason})`))}\n`);
  if (found.folders.length > 0) err.write(`skipped ${plural(found.folders.length, "sub-folder")} (add --recursive to include them): ${someOf(found.folders)}\n`);
  if (found.hidden > 0) err.write(`skipped ${plural(found.hidden, "hidden file or folder")} (names starting with .)\n`);
}

/** The captures split into jobs of at most `perJob` (all in one without it), in the order found. */
function split(files: readonly FoundFile[], perJob: number | undefined): FoundFile[][] {
  const size = perJob ?? files.length;
  const jobs: FoundFile[][] = [];
  for (let i = 0; i < files.length; i += size) jobs.push(files.slice(i, i + size));
  return jobs;
}

/** An upload that failed, said with what it means for a set split into jobs. */
function uploadFailure(err: unknown, job: number, jobs: FoundFile[][]): unknown {
  if (!(err instanceof CliError)) return err;
  const tooMany = err instanceof ApiError && err.code === ErrorCodes.UPLOAD_TOO_MANY_FILES;
  const hint = tooMany ? "; split the captures into several jobs with --per-job N" : "";
  if (jobs.length === 1) return tooMany ? new ApiError(`${err.message}${hint}`, err.httpStatus, err.code) : err;
  const accepted = job === 0 ? "no job was accepted" : job === 1 ? "the job accepted is listed above" : `the ${job} jobs accepted are listed above`;
  const first = jobs[job]![0]!.path;
  return new CliError(`job ${job + 1} of ${jobs.length} was not accepted: ${err.message}${hint}; ${accepted}; nothing from ${printable(first)} on was submitted`, err.exitCode);
}

/**
 * `brocapi submit <files, folders, globs...> [--recursive] [--per-job N] [--tag T] [--profile P]
 * [--merge] [--shards N|auto] [--wait]`: one multipart upload per job (every capture in one job unless --per-job splits
 * them), streamed from disk a file at a time; prints each job id on stdout as it is accepted, progress on stderr.
 * With `--wait`, follows each job, then its delivery to the sinks, and shows it; the exit status
 * then says how the analysis ended (1 when any job failed or partly failed).
 */
export async function submit(cmd: Extract<Command, { kind: "submit" }>): Promise<ExitCode> {
  const found = await findCaptures(cmd.files, cmd.recursive);
  reportSkipped(found, process.stderr);
  if (found.files.length === 0) throw new UsageError(`no captures to send in ${cmd.files.map(printable).join(" ")}`);
  const jobs = split(found.files, cmd.perJob);
  const fields = [
    ...(cmd.tag === undefined ? [] : [{ name: "tag", value: cmd.tag }]),
    ...(cmd.profile === undefined ? [] : [{ name: "profile", value: cmd.profile }]),
    ...(cmd.merge ? [{ name: "merge", value: "true" }] : []),
    ...(cmd.shards === undefined ? [] : [{ name: "shards", value: cmd.shards }]),
  ];
  // Fields before files: the api refuses an unknown profile before a byte of a capture is sent on.
  // Part headers only: each file is opened when its part goes out.
  const bodies: MultipartBody[] = jobs.map((files) => multipartBody(fields, files.map((f) => ({ field: "file[]", path: f.path, fileName: basename(f.path), size: f.size }))));
  const client = new ApiClient(cmd.url, cmd.auth);
  const n = found.files.length;
  const what = `${plural(n, "capture")} to ${cmd.url}${jobs.length > 1 ? ` as ${jobs.length} jobs of at most ${cmd.perJob}` : ""}`;
  const progress = uploadProgress(process.stderr, { files: n, bytes: bodies.reduce((sum, b) => sum + b.length, 0), what });
  const ids: string[] = [];
  let accepted = 0;
  try {
    for (const [i, body] of bodies.entries()) {
      const answer = await client.submit(body, progress).catch((err: unknown) => {
        throw uploadFailure(err, i, jobs);
      });
      ids.push(answer.job_id);
      accepted += jobs[i]!.length;
      progress.above(() => process.stdout.write(`${answer.job_id}\n`));
    }
  } finally {
    progress.finish({ jobs: ids.length, captures: accepted });
  }
  if (!cmd.wait) return ExitCode.OK;
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  let allDone = true;
  for (const [i, id] of ids.entries()) {
    if (ids.length > 1) print(`job ${i + 1} of ${ids.length}: ${id}`);
    await followJob(client, id, print);
    const job = await waitForDelivery(client, id, print);
    await printJobView(client, job, DEFAULT_LISTING, (text) => void process.stdout.write(text));
    allDone &&= job.state === "done";
  }
  return allDone ? ExitCode.OK : ExitCode.JOB_FAILED;
}
