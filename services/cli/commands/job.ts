import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";
import { formatJobSummary } from "../format.js";

/** `brocapi job <id> [--json]`: the job's summary, or the server's JSON unchanged. */
export async function job(cmd: Extract<Command, { kind: "job" }>): Promise<ExitCode> {
  const client = new ApiClient(cmd.url, cmd.auth);
  if (cmd.json) {
    const text = await client.jobText(cmd.id);
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  } else {
    process.stdout.write(formatJobSummary(await client.job(cmd.id)));
  }
  return ExitCode.OK;
}
