// Entry point of the `brocapi` command (bin/brocapi): reads the command line, runs one command,
// and turns its outcome into an exit status.
import { parseCommandLine, type Command } from "./args.js";
import { deleteJob } from "./commands/delete.js";
import { replay } from "./commands/replay.js";
import { job } from "./commands/job.js";
import { jobs } from "./commands/jobs.js";
import { logs } from "./commands/logs.js";
import { submit } from "./commands/submit.js";
import { token } from "./commands/token.js";
import { CliError, ExitCode, UsageError } from "./errors.js";

function execute(cmd: Command): Promise<ExitCode> {
  switch (cmd.kind) {
    case "help":
      process.stdout.write(cmd.text);
      return Promise.resolve(ExitCode.OK);
    case "submit":
      return submit(cmd);
    case "jobs":
      return jobs(cmd);
    case "job":
      return job(cmd);
    case "logs":
      return logs(cmd);
    case "delete":
      return deleteJob(cmd);
    case "replay":
      return replay(cmd);
    case "token":
      return token(cmd);
  }
}

async function main(argv: string[]): Promise<ExitCode> {
  let cmd: Command;
  try {
    cmd = parseCommandLine(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`brocapi: ${err.message}\nRun 'brocapi --help' for usage.\n`);
    return err.exitCode;
  }
  try {
    return await execute(cmd);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`brocapi: ${err.message}\n`);
      return err.exitCode;
    }
    // Not one of the anticipated failures: the stack is what a bug report needs.
    process.stderr.write(`brocapi: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.SERVER;
  }
}

// A reader that stopped early (`brocapi logs … | head`) got what it wanted: end quietly, not
// with a stack trace for the broken pipe.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(ExitCode.OK);
});
process.exitCode = await main(process.argv.slice(2));
