import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { followJob, waitForDelivery } from "../follow-job.js";
import { formatJobSummary } from "../format.js";
import { multipartBody, type FormFile } from "../multipart.js";
import { uploadProgress } from "../progress.js";

/** Checks a capture before the upload starts, so a typo fails at once rather than after gigabytes. */
async function captureFile(path: string): Promise<FormFile> {
  const info = await stat(path).catch((err: Error) => {
    throw new UsageError(`cannot read ${path}: ${err.message}`);
  });
  if (!info.isFile()) throw new UsageError(`${path} is not a file`);
  return { field: "file[]", path, fileName: basename(path), size: info.size };
}

/**
 * `brocapi submit <files...> [--tag T] [--profile P] [--wait]`: one multipart upload of every capture; prints
 * the job id on stdout. With `--wait`, follows the job, then its delivery to the sinks, and prints
 * its summary; the exit status then says how the analysis ended.
 */
export async function submit(cmd: Extract<Command, { kind: "submit" }>): Promise<ExitCode> {
  const files = await Promise.all(cmd.files.map(captureFile));
  const fields = [...(cmd.tag === undefined ? [] : [{ name: "tag", value: cmd.tag }]), ...(cmd.profile === undefined ? [] : [{ name: "profile", value: cmd.profile }])];
  // Fields before files: the api refuses an unknown profile before a byte of a capture is sent on.
  const body = multipartBody(fields, files);
  const client = new ApiClient(cmd.url, cmd.auth);
  const answer = await client.submit(body, uploadProgress(process.stderr, body.length, `${files.length} capture${files.length === 1 ? "" : "s"} to ${cmd.url}`));
  process.stdout.write(`${answer.job_id}\n`);
  if (!cmd.wait) return ExitCode.OK;
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  await followJob(client, answer.job_id, print);
  const job = await waitForDelivery(client, answer.job_id, print);
  process.stdout.write(formatJobSummary(job));
  return job.state === "done" ? ExitCode.OK : ExitCode.JOB_FAILED;
}
