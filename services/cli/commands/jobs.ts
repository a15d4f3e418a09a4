import { PAGE_MAX } from "../../../shared/jobs/page-limits.js";
import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";
import { JOB_COLUMNS, formatTable, formatTsv, jobRow } from "../format.js";

/**
 * `brocapi jobs [--tag T] [--state S] [--limit N]`: follows `next_cursor` until `limit` jobs are
 * listed or none are left, in pages of at most the api's largest (a bigger `limit` is refused).
 * A table on a terminal; tab-separated, without a header, in a pipe.
 */
export async function jobs(cmd: Extract<Command, { kind: "jobs" }>): Promise<ExitCode> {
  const client = new ApiClient(cmd.url, cmd.auth);
  const rows: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await client.jobs({ tag: cmd.tag, state: cmd.state, limit: Math.min(cmd.limit - rows.length, PAGE_MAX), cursor });
    rows.push(...page.jobs.slice(0, cmd.limit - rows.length).map(jobRow));
    // A filtered page may be short, even empty, and still carry a cursor: one request examines a
    // bounded number of jobs. The cursor only moves towards older jobs, so following it ends.
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && rows.length < cmd.limit);
  if (!process.stdout.isTTY) process.stdout.write(formatTsv(rows));
  else process.stdout.write(rows.length === 0 ? "no jobs\n" : formatTable(JOB_COLUMNS, rows));
  return ExitCode.OK;
}
