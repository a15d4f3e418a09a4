import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";
import { printable } from "../format.js";

/** `brocapi replay <id> --sink NAME`: queues the replay and prints the server's answer; `brocapi job` shows its count. */
export async function replay(cmd: Extract<Command, { kind: "replay" }>): Promise<ExitCode> {
  const status = await new ApiClient(cmd.url, cmd.auth).replay(cmd.id, cmd.sink);
  process.stdout.write(`${printable(status)}: ${cmd.id} to ${printable(cmd.sink)} (\`brocapi job ${cmd.id}\` shows the lines replayed)\n`);
  return ExitCode.OK;
}
