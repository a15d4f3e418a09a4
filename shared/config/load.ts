import { readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { BrocapiError, ConfigError, ErrorCodes } from "../errors.js";
import { ENV_SETTINGS, parseEnvValue } from "./env-settings.js";
import { configSchema, type Config } from "./schema.js";
import type { SinkInstance } from "./sink-instance.js";
import { configFromSeedIni } from "./seed-ini.js";
import { DEFAULT_PROFILE } from "./zeek-profile.js";

type Plain = Record<string, unknown>;

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === "object" && next !== null ? next : (node[key] = {})) as Plain;
  }
  node[keys.at(-1)!] = value;
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = [b, v].every((x) => typeof x === "object" && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? deepMerge(b as Plain, v as Plain) : v;
  }
  return out;
}

/** Reads a config file: YAML, JSON, or the seed's INI (`.conf`/`.ini`). */
function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new BrocapiError(ErrorCodes.CONFIG_FILE_UNREADABLE, `BROCAPI_CONFIG: cannot read ${path}: ${(cause as Error).message}`, {
      permanent: true,
      cause,
    });
  }
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".conf" || ext === ".ini") return configFromSeedIni(text) as Plain;
    const parsed: unknown = ext === ".json" ? JSON.parse(text) : parseYaml(text);
    return (parsed ?? {}) as Plain;
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError(`BROCAPI_CONFIG: ${path} is not valid ${ext === ".json" ? "JSON" : "YAML"}: ${(cause as Error).message}`, cause);
  }
}

function describeIssue(issue: z.core.$ZodIssue, sources: Map<string, string>): string {
  const path = issue.path.join(".");
  const source = sources.get(path) ?? sources.get(issue.path.slice(0, -1).join("."));
  const where = source ? `${source} (${path})` : path || "config";
  return `${where}: ${issue.message}`;
}

/**
 * Builds the configuration: defaults, then the file named by BROCAPI_CONFIG, then the
 * environment. Throws a ConfigError naming each bad setting and its source; the result is frozen.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sources = new Map<string, string>();
  let raw: Plain = {};
  const file = env.BROCAPI_CONFIG;
  if (file) {
    raw = readConfigFile(file);
    const mark = (obj: Plain, prefix: string): void => {
      for (const [k, v] of Object.entries(obj)) {
        const p = prefix ? `${prefix}.${k}` : k;
        sources.set(p, `${file}`);
        if (typeof v === "object" && v !== null && !Array.isArray(v)) mark(v as Plain, p);
      }
    };
    mark(raw, "");
  }
  const fromEnv: Plain = {};
  for (const { env: name, path, kind } of ENV_SETTINGS) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    setPath(fromEnv, path, parseEnvValue(kind, text));
    sources.set(path, name);
  }
  raw = deepMerge(raw, fromEnv);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${describeIssue(i, sources)}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const parsed = result.data;
  const dataDir = resolve(parsed.dataDir);
  const directory = { root: resolve(parsed.directory.root ?? join(dataDir, "logs")) };
  const config: Config = {
    ...parsed,
    http: { ...parsed.http, host: listenHost(parsed) },
    // The profile of jobs that name none is what `zeek.scripts` always meant, unless defined outright.
    zeek: { ...parsed.zeek, profiles: { [DEFAULT_PROFILE]: { scripts: parsed.zeek.scripts, options: {} }, ...parsed.zeek.profiles } },
    dataDir,
    sinks: sinkInstances(parsed, directory, sources, file ? dirname(resolve(file)) : process.cwd()),
    directory,
  };
  if (config.sinks.some((s) => s.name === "syslog" && s.kind === "syslog" && !s.options.target)) {
    throw new ConfigError("Invalid configuration:\n  - BROCAPI_SINKS (sinks): `syslog` needs BROCAPI_SYSLOG_TARGET (syslog.target)");
  }
  return deepFreeze(config);
}

type Parsed = z.output<typeof configSchema>;

/**
 * The sink instances to run. The shorthand (a list of kinds, or nothing) makes one instance per
 * kind named after it; `syslog` and `directory` instances start from their sections' settings, so
 * BROCAPI_SYSLOG_TARGET, BROCAPI_LOG_DIR and the rest keep working.
 */
function sinkInstances(parsed: Parsed, directory: { root: string }, sources: Map<string, string>, baseDir: string): SinkInstance[] {
  const defaults = (kind: string | undefined): Record<string, unknown> => (kind === "syslog" ? { ...parsed.syslog } : kind === "directory" ? { ...directory } : {});
  const source = sources.get("sinks") ?? "defaults";
  if (parsed.sinks === undefined || Array.isArray(parsed.sinks)) {
    const kinds = parsed.sinks ?? (parsed.syslog.target ? ["directory", "syslog"] : ["directory"]);
    return [...new Set(kinds)].map((kind) => ({ name: kind, kind, baseDir, options: defaults(kind), logs: { exclude: [] }, tags: { exclude: [] }, start: "all", source }));
  }
  return Object.entries(parsed.sinks).map(([name, s]) => ({
    name,
    kind: s.kind ?? s.plugin!,
    ...(s.plugin ? { plugin: s.plugin } : {}),
    baseDir,
    options: { ...defaults(s.kind), ...s.options },
    logs: s.logs,
    tags: s.tags,
    ...(s.format ? { format: s.format } : {}),
    start: s.start,
    ...(s.autoReplay !== undefined ? { autoReplay: s.autoReplay } : {}),
    source,
  }));
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

/** Loopback is the only address that may go without API tokens, unless `auth.mode` is `none` on purpose. */
function listenHost(parsed: Parsed): string {
  const { tokensFile, mode } = parsed.auth;
  if (mode === "tokens" && !tokensFile) {
    throw new ConfigError("Invalid configuration:\n  - BROCAPI_AUTH (auth.mode): `tokens` needs BROCAPI_AUTH_TOKENS_FILE (auth.tokensFile); create tokens with `brocapi token create`");
  }
  if (parsed.auth.metrics === "token" && !tokensFile) {
    throw new ConfigError("Invalid configuration:\n  - BROCAPI_METRICS_AUTH (auth.metrics): `token` needs BROCAPI_AUTH_TOKENS_FILE (auth.tokensFile)");
  }
  const host = parsed.http.host ?? (tokensFile ? "0.0.0.0" : "127.0.0.1");
  if (!tokensFile && mode !== "none" && !LOOPBACK.test(host)) {
    throw new ConfigError(
      `Invalid configuration:\n  - BROCAPI_HTTP_HOST (http.host): listening on ${host} without API tokens would let anyone who reaches it upload, read and delete captures. ` +
        "Set BROCAPI_AUTH_TOKENS_FILE (auth.tokensFile; create tokens with `brocapi token create`), or BROCAPI_AUTH=none to run it open on purpose.",
    );
  }
  return host;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
