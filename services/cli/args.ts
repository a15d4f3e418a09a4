import { parseArgs, type ParseArgsConfig } from "node:util";
import { API_ROLES, type ApiRole } from "../../shared/auth/token-core.js";
import { FILE_STATES, JOB_STATES, type FileState, type JobState } from "./api-types.js";
import { DEFAULT_LISTING, type CaptureListing } from "./job-view.js";
import type { Credentials } from "./http-request.js";
import { UsageError } from "./errors.js";
import { COMMANDS, DEFAULT_URL, GLOBAL_OPTIONS, commandHelp, mainHelp, type CommandName } from "./specs.js";

/** The server a command talks to, and (only when given) how it authenticates and verifies it. */
type Server = { url: string; auth?: Credentials };

/** What the command line asks for, every value checked. */
export type Command =
  | { kind: "help"; text: string }
  | ({ kind: "submit"; files: string[]; tag?: string; profile?: string; merge?: true; shards?: string; wait: boolean; recursive: boolean; perJob?: number } & Server)
  | ({ kind: "jobs"; tag?: string; state?: JobState; limit: number } & Server)
  | ({ kind: "job"; id: string; json: boolean; listing: CaptureListing } & Server)
  | ({ kind: "logs"; id: string; type: string; format: "tsv" | "json" } & Server)
  | ({ kind: "delete"; id: string } & Server)
  | ({ kind: "replay"; id: string; sink: string } & Server)
  | { kind: "token"; name: string; roles: ApiRole[]; tags?: string[] };

const DEFAULT_LIMIT = 20;

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** `raw` with everything up to its last `@` hidden: a URL that failed to parse may still carry a password. */
function withoutUserinfo(raw: string): string {
  return raw.replace(/^.*@/s, "…@");
}

/**
 * The server's base URL without a trailing slash; only http(s) makes sense for this API. A user
 * name or password in it is refused: the URL is printed (progress, errors), a secret must not be.
 */
function serverUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${withoutUserinfo(raw)}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new UsageError("the server URL must not carry a user name or password (user:pass@): give the API token with --token, BROCAPI_TOKEN or, best, BROCAPI_TOKEN_FILE");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`the server URL must be http:// or https://, not ${url.protocol}`);
  return url.href.replace(/\/+$/, "");
}

function positiveInteger(option: string, raw: string): number {
  if (!/^[1-9][0-9]*$/.test(raw)) throw new UsageError(`--${option} must be a whole number of at least 1, not ${raw}`);
  return Number(raw);
}

function captureIndex(option: string, raw: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(raw)) throw new UsageError(`--${option} must be a capture index (0, 1, …), not ${raw}`);
  return Number(raw);
}

/** `job`: which captures to list, every value checked. */
function captureListing(str: (option: string) => string | undefined, all: boolean): CaptureListing {
  const [limit, from, state] = [str("limit"), str("from"), str("state")];
  const states = state?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = states?.find((s) => !FILE_STATES.includes(s as FileState));
  if (unknown !== undefined || states?.length === 0) throw new UsageError(`--state must be one or more of ${FILE_STATES.join(", ")} (comma-separated), not ${state}`);
  return {
    limit: limit === undefined ? DEFAULT_LISTING.limit : positiveInteger("limit", limit),
    from: from === undefined ? DEFAULT_LISTING.from : captureIndex("from", from),
    all,
    ...(states ? { states: [...new Set(states)] as FileState[] } : {}),
  };
}

const VALUED_GLOBALS = new Set(Object.entries(GLOBAL_OPTIONS).flatMap(([name, o]) => (o.type === "string" ? [`--${name}`] : [])));

/** Token and CA from the options, else the environment; only what was given. */
function credentials(values: Record<string, unknown>, global: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Credentials | undefined {
  const pick = (option: string): string | undefined => {
    const v = values[option] ?? global[option];
    return typeof v === "string" ? v : undefined;
  };
  const token = pick("token") ?? (env.BROCAPI_TOKEN || undefined);
  const tokenFile = token === undefined ? env.BROCAPI_TOKEN_FILE || undefined : undefined;
  const caFile = pick("ca") ?? (env.BROCAPI_CA_FILE || undefined);
  const auth: Credentials = { ...(token !== undefined ? { token } : {}), ...(tokenFile ? { tokenFile } : {}), ...(caFile ? { caFile } : {}) };
  return Object.keys(auth).length > 0 ? auth : undefined;
}

/** `token create`: the roles and tag globs checked. */
function tokenCommand(action: string, str: (option: string) => string | undefined): Command {
  if (action !== "create") throw new UsageError(`token: unknown action '${action}' (only: create)`);
  const name = str("name");
  if (!name) throw new UsageError("token create: --name is required");
  const roles = (str("roles") ?? "").split(",").map((r) => r.trim()).filter(Boolean);
  if (roles.length === 0) throw new UsageError(`token create: --roles is required (${API_ROLES.join(", ")})`);
  const unknown = roles.find((r) => !API_ROLES.includes(r as ApiRole));
  if (unknown) throw new UsageError(`token create: unknown role '${unknown}' (${API_ROLES.join(", ")})`);
  const tags = str("tags")?.split(",").map((t) => t.trim()).filter(Boolean);
  return { kind: "token", name, roles: [...new Set(roles)] as ApiRole[], ...(tags && tags.length > 0 ? { tags } : {}) };
}

/**
 * Splits off the options given before the command name (`brocapi --url X jobs`), which parseArgs
 * cannot tell from the command's own without knowing the command first.
 */
function splitCommand(argv: readonly string[]): { before: string[]; name: string | undefined; rest: string[] } {
  const before: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) break;
    before.push(arg);
    // `--url X`: the value belongs to the option, it is not the command.
    if (VALUED_GLOBALS.has(arg) && i + 1 < argv.length) before.push(argv[++i]!);
  }
  return { before, name: argv[i], rest: argv.slice(i + 1) };
}

function parse(args: string[], options: ParseArgsConfig["options"]): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains unknown options and missing values well; only the error type changes.
    throw new UsageError((err as Error).message);
  }
}

/**
 * Reads `argv` (without `node` and the script) into a checked command. The server URL comes
 * from `--url`, else `BROCAPI_URL` in `env` (when not empty), else the default.
 *
 * @throws UsageError when the command line cannot be followed.
 */
export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Command {
  const { before, name, rest } = splitCommand(argv);
  const global = parse(before, GLOBAL_OPTIONS).values;
  if (name === undefined) {
    if (global.help) return { kind: "help", text: mainHelp() };
    throw new UsageError("no command given");
  }
  if (!isCommandName(name)) throw new UsageError(`unknown command '${name}'`);
  const spec = COMMANDS[name];
  const { values, positionals } = parse(rest, { ...spec.options, ...GLOBAL_OPTIONS });
  if (global.help || values.help) return { kind: "help", text: commandHelp(name) };

  const variadic = spec.args.at(-1)?.endsWith("...") ?? false;
  const missing = spec.args.slice(positionals.length).map((a) => a.replace("...", ""));
  if (missing.length > 0) throw new UsageError(`${name}: missing ${missing.map((a) => `<${a}>`).join(" ")}`);
  if (!variadic && positionals.length > spec.args.length) throw new UsageError(`${name}: unexpected argument '${positionals[spec.args.length]}'`);

  const str = (option: string): string | undefined => (typeof values[option] === "string" ? values[option] : undefined);
  const [first = "", second = ""] = positionals;
  if (name === "token") return tokenCommand(first, str);
  const auth = credentials(values, global, env);
  const server: Server = { url: serverUrl(String(values.url ?? global.url ?? (env.BROCAPI_URL || DEFAULT_URL))), ...(auth ? { auth } : {}) };
  switch (name) {
    case "submit": {
      const [tag, profile, perJob, shards] = [str("tag"), str("profile"), str("per-job"), str("shards")];
      // One recording is one job: cut into several, no job would hold the whole of it.
      if (values.merge === true && perJob !== undefined) throw new UsageError("--merge and --per-job do not go together: a recording is analysed as one job");
      // Checked here for a usage error before any upload; the api checks the number against its limit.
      if (shards !== undefined && !/^(auto|\d+)$/.test(shards)) throw new UsageError(`--shards takes a number or auto, not ${JSON.stringify(shards)}`);
      return {
        kind: "submit",
        ...server,
        files: positionals,
        ...(values.merge === true ? { merge: true as const } : {}),
        wait: values.wait === true,
        recursive: values.recursive === true,
        ...(tag !== undefined ? { tag } : {}),
        ...(profile !== undefined ? { profile } : {}),
        ...(shards !== undefined ? { shards } : {}),
        ...(perJob !== undefined ? { perJob: positiveInteger("per-job", perJob) } : {}),
      };
    }
    case "jobs": {
      const tag = str("tag");
      const state = str("state");
      if (state !== undefined && !JOB_STATES.includes(state as JobState)) throw new UsageError(`--state must be one of ${JOB_STATES.join(", ")}, not ${state}`);
      const limit = str("limit");
      return {
        kind: "jobs",
        ...server,
        limit: limit === undefined ? DEFAULT_LIMIT : positiveInteger("limit", limit),
        ...(tag !== undefined ? { tag } : {}),
        ...(state !== undefined ? { state: state as JobState } : {}),
      };
    }
    case "job":
      return { kind: "job", ...server, id: first, json: values.json === true, listing: captureListing(str, values.all === true) };
    case "logs": {
      const format = str("format") ?? "tsv";
      if (format !== "tsv" && format !== "json") throw new UsageError(`--format must be tsv or json, not ${format}`);
      return { kind: "logs", ...server, id: first, type: second, format };
    }
    case "delete":
      return { kind: "delete", ...server, id: first };
    case "replay": {
      const sink = str("sink");
      if (sink === undefined) throw new UsageError("replay: --sink NAME is required (the sink instance to deliver to)");
      return { kind: "replay", ...server, id: first, sink };
    }
  }
}
