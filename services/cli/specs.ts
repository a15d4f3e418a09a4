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
  /** Paragraphs the command's help shows after its options. */
  notes?: readonly string[];
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
    summary: "upload captures (files, folders, quoted globs such as 'pcaps/*.pcap') as one job, or several with --per-job; print each job id",
    args: ["paths..."],
    options: {
      tag: { type: "string", value: "T", help: "tag the job (syslog hostname of its lines)" },
      profile: { type: "string", value: "P", help: "analysis profile: one of the server's zeek.profiles (default: default)" },
      recursive: { type: "boolean", short: "r", help: "take the captures in the folders' sub-folders too" },
      "per-job": { type: "string", value: "N", help: "split the captures into jobs of at most N, uploaded one after another" },
      merge: { type: "boolean", help: "the files are one recording cut into pieces (tcpdump -C/-G, rotated files): analyse them as one capture in packet-time order" },
      wait: { type: "boolean", help: "follow the job(s) until they end, then print each; exit 1 if any failed or partly failed" },
      shards: { type: "string", value: "N|auto", help: "analyse each capture in N shards by host pair, on N Zeek processes (auto: by size, docs/SHARDING.md)" },
    },
    notes: [
      "Files named one by one are sent as they are (the server refuses a file that is not a capture, and nothing of the job is kept). In folders and glob matches, only files whose first bytes are a capture's (pcap, pcapng, or those gzip/zstd-compressed) are sent, in name order (cap2 before cap10); the others, empty and unreadable files, names starting with '.' and, without --recursive, sub-folders are skipped and counted on stderr. Quote a glob ('pcaps/**/*.pcap') to have brocapi expand it: '**' spans folders.",
      "Each file is read from disk only while its part is sent, so thousands of captures upload in flat memory. Progress goes to stderr: one line redrawn on a terminal, a line per tenth of the captures otherwise, and a closing summary. Job ids go to stdout, one per line, as each job is accepted; if a job is refused, the ones before it stand and the message says from which file on nothing was sent.",
    ],
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
    summary: "show a job: state, counts, each sink, its failed captures first, then the others a page at a time",
    args: ["id"],
    options: {
      limit: { type: "string", value: "N", help: "captures per list (default 20); the last line says how many more there are and how to see them" },
      from: { type: "string", value: "I", help: "list the other (or --state) captures from capture index I on: the next page, as printed" },
      state: { type: "string", value: "S", help: "list only captures in these states, comma-separated (queued, running, done, failed)" },
      all: { type: "boolean", help: "list every capture, page after page" },
      json: { type: "boolean", help: "print the server's JSON for GET /jobs/:id unchanged (summary and first page)" },
    },
    notes: [
      "Each capture shows its size (and, when it was uploaded gzip/zstd-compressed, what was sent), state, duration, lines per log type or why it failed (Zeek's exit code and first stderr line), whether it was salvaged after being cut mid-packet, and the worker that analysed it.",
    ],
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
    "Exit status: 0 success, 1 a job failed or partly failed (submit --wait), 2 usage error, 3 server or connection error.",
    "",
  ].join("\n");
}

/** `text` broken into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return line === "" ? lines : [...lines, line];
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
    ...(spec.notes ?? []).flatMap((note) => [...wrap(note, 100), ""]),
  ].join("\n");
}
