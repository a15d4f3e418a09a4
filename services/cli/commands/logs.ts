import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { ApiClient } from "../api-client.js";
import type { Command } from "../args.js";
import { ApiError, ExitCode } from "../errors.js";

/**
 * `brocapi logs <id> <type> [--format json]`: copies the log to stdout as it arrives, at the pace
 * stdout takes it, so `| head` or `| zeek-cut` work on logs of any size.
 */
export async function logs(cmd: Extract<Command, { kind: "logs" }>): Promise<ExitCode> {
  const client = new ApiClient(cmd.url, cmd.auth);
  const res = await client.request(`${ApiClient.jobPath(cmd.id, "logs", cmd.type)}${cmd.format === "json" ? "?format=json" : ""}`);
  if (!res.body) throw new ApiError("the server answered with no log body");
  await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), process.stdout);
  return ExitCode.OK;
}
