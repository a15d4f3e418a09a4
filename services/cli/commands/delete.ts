import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";
import { printable } from "../format.js";

/** `brocapi delete <id>`: prints the server's answer (`job deleted`) and the id. */
export async function deleteJob(cmd: Extract<Command, { kind: "delete" }>): Promise<ExitCode> {
  const status = await new ApiClient(cmd.url, cmd.auth).deleteJob(cmd.id);
  process.stdout.write(`${printable(status)}: ${cmd.id}\n`);
  return ExitCode.OK;
}
