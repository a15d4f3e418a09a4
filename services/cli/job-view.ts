import { PAGE_MAX } from "../../shared/jobs/page-limits.js";
import type { ApiClient } from "./api-client.js";
import type { FileState, Job } from "./api-types.js";
import { formatCapture, formatJobHeader } from "./format.js";

/** Which captures a job view lists: a page of them (`limit` from index `from`), or all. */
export interface CaptureListing {
  /** Only captures in these states, in one list; absent: the failed ones first, then the others. */
  states?: readonly FileState[];
  /** Captures per list. */
  limit: number;
  /** The capture index to list from (a `next_cursor`); the failed list, when shown apart, always starts at 0. */
  from: number;
  all: boolean;
}

/** What `brocapi job <id>` lists unless told otherwise. */
export const DEFAULT_LISTING: CaptureListing = { limit: 20, from: 0, all: false };

const NOT_FAILED: readonly FileState[] = ["queued", "running", "done"];

/**
 * Prints one list of a job's captures: a page, or every page when `all`, each written as it
 * arrives (a job of 10,000 captures is never held whole). Ends with how many more there are and
 * the command that shows the next page.
 */
async function printList(client: ApiClient, job: Job, title: string, states: readonly FileState[], from: number, listing: CaptureListing, hint: (from: string) => string, write: (text: string) => void): Promise<void> {
  const total = states.reduce((n, s) => n + job.counts[s], 0);
  write(`${title} (${total}):\n`);
  let cursor: string | null = String(from);
  let left = listing.all ? Infinity : listing.limit;
  let remaining = 0;
  while (cursor !== null && left > 0) {
    const page = await client.captures(job.id, { states, cursor, limit: Math.min(left, PAGE_MAX) });
    if (page.captures.length > 0) write(page.captures.map((c) => `${formatCapture(c)}\n`).join(""));
    left -= page.captures.length;
    cursor = page.next_cursor;
    remaining = page.remaining;
  }
  if (cursor !== null && remaining > 0) write(`  … ${remaining} more: ${hint(cursor)}\n`);
}

/**
 * `brocapi job <id>` and the end of `submit --wait`: the summary, then the failed captures (what
 * an analyst looks at first), then the others a page at a time, each list saying how many more
 * there are and how to see them.
 */
export async function printJobView(client: ApiClient, job: Job, listing: CaptureListing, write: (text: string) => void): Promise<void> {
  write(formatJobHeader(job));
  const limit = listing.limit === DEFAULT_LISTING.limit ? "" : ` --limit ${listing.limit}`;
  const next = (state: string) => (from: string) => `brocapi job ${job.id}${state}${limit} --from ${from} (or --all)`;
  if (listing.states) {
    const states = listing.states.join(",");
    await printList(client, job, `captures ${states}`, listing.states, listing.from, listing, next(` --state ${states}`), write);
    return;
  }
  if (job.counts.failed > 0) await printList(client, job, "failed captures", ["failed"], 0, listing, next(" --state failed"), write);
  if (job.counts.total > job.counts.failed) {
    await printList(client, job, job.counts.failed > 0 ? "other captures" : "captures", NOT_FAILED, listing.from, listing, next(""), write);
  }
}
