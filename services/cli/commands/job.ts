import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJobView } from "../job-view.js";

/** `brocapi job <id>`: the summary, failed captures first, then the others a page at a time; or the server's JSON unchanged. */
export async function job(cmd: Extract<Command, { kind: "job" }>): Promise<ExitCode> {
  const client = new ApiClient(cmd.url, cmd.auth);
  if (cmd.json) {
    const text = await client.jobText(cmd.id);
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  } else {
    // The summary only: the lists come from /captures, failed ones first.
    await printJobView(client, await client.job(cmd.id, 0), cmd.listing, (text) => void process.stdout.write(text));
  }
  return ExitCode.OK;
}
