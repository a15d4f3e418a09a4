// What each command accepts, in one table that both the parser and the help text read, so the
// two cannot disagree.

/** The commands `brocapi` knows. */
export type CommandName = "submit" | "jobs" | "job" | "logs" | "delete" | "replay" | "token";

/** One option of a command: its parseArgs type and its line in the help text. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Shown after the option name in help, e.g. `T` for `--tag T`. */
  value?: string;
  help: string;
}

/** The arguments and options of one command. */
export interface CommandSpec {
  summary: string;
  /** Positional argument names; a trailing `...` means one or more. */
  args: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
}

/** The server URL when neither `--url` nor `BROCAPI_URL` names one. */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** Options every command accepts, before or after its name. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: { type: "string", value: "URL", help: `Brocapi API (default: $BROCAPI_URL, else ${DEFAULT_URL})` },
  token: { type: "string", value: "T", help: "API token (default: $BROCAPI_TOKEN, else the file $BROCAPI_TOKEN_FILE); a file keeps it out of ps" },
  ca: { type: "string", value: "FILE", help: "PEM CA to verify an https:// server with, instead of the system's (default: $BROCAPI_CA_FILE)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** Every command, in the order the help lists them. */
export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  submit: {
    summary: "upload captures as one job and print its id",
    args: ["files..."],
    options: {
      tag: { type: "string", value: "T", help: "tag the job (syslog hostname of its lines)" },
      profile: { type: "string", value: "P", help: "analysis profile: one of the server's zeek.profiles (default: default)" },
      wait: { type: "boolean", help: "follow the job until it ends, then print a summary; exit 1 if it failed or partly failed" },
    },
  },
  jobs: {
    summary: "list jobs, newest first: a table on a terminal, tab-separated columns otherwise",
    args: [],
    options: {
      tag: { type: "string", value: "T", help: "only jobs with this tag" },
      state: { type: "string", value: "S", help: "only jobs in this state (queued, running, done, failed, partial)" },
      limit: { type: "string", value: "N", help: "print at most N jobs (default 20)" },
    },
  },
  job: {
    summary: "show a job: state, each capture, each sink",
    args: ["id"],
    options: { json: { type: "boolean", help: "print the server's JSON unchanged" } },
  },
  logs: {
    summary: "write one log type of a job to stdout",
    args: ["id", "type"],
    options: { format: { type: "string", value: "F", help: "tsv (Zeek's file, the default) or json (one object per line)" } },
  },
  delete: {
    summary: "delete a job, its captures and its record",
    args: ["id"],
    options: {},
  },
  replay: {
    summary: "deliver a job's retained lines again to one sink instance (counted as replayed)",
    args: ["id"],
    options: { sink: { type: "string", value: "NAME", help: "the sink instance (sinks.<name> in the server's configuration); required" } },
  },
  token: {
    summary: "token create: print a new random API token once, and the entry for the server's tokens file",
    args: ["action"],
    options: {
      name: { type: "string", value: "NAME", help: "who holds the token (shown in the api's logs)" },
      roles: { type: "string", value: "R", help: "comma-separated: submit, read, admin" },
      tags: { type: "string", value: "GLOBS", help: "comma-separated tag globs (e.g. 'case-*') the token is limited to" },
    },
  },
};

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`, o.help] as const);
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

/** `brocapi --help`: every command and the global options. */
export function mainHelp(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  return [
    "Usage: brocapi [--url URL] [--token T] [--ca FILE] <command> [options]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`),
    "",
    "Options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Run 'brocapi <command> --help' for a command's options.",
    "Exit status: 0 success, 1 job failed or partial (submit --wait), 2 usage error, 3 server or connection error.",
    "",
  ].join("\n");
}

/** `brocapi <command> --help`. */
export function commandHelp(name: CommandName): string {
  const spec = COMMANDS[name];
  const args = spec.args.map((a) => `<${a}>`).join(" ");
  return [
    `Usage: brocapi ${name}${args ? ` ${args}` : ""} [options]`,
    "",
    `${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.`,
    "",
    "Options:",
    ...optionLines({ ...spec.options, ...GLOBAL_OPTIONS }),
    "",
  ].join("\n");
}
