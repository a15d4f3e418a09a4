import { z } from "zod";
import { ENV_SETTINGS } from "./env-settings.js";
import { configSchema } from "./schema.js";

export interface SettingDoc {
  path: string;
  env: string | undefined;
  description: string;
}

const innerOf = (s: z.ZodType): z.ZodType | undefined => (s.def as unknown as { innerType?: z.ZodType }).innerType;

/** Optional, default and prefault wrappers all keep the real type in `def.innerType`. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let next = innerOf(s); next; next = innerOf(s)) s = next;
  return s;
}

/** Every setting with its documentation, read from the schema itself so docs cannot drift. */
export function describeSettings(schema: z.ZodType = configSchema, prefix = ""): SettingDoc[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => describeSettings(child, prefix ? `${prefix}.${key}` : key));
  }
  return [{ path: prefix, env: ENV_SETTINGS.find((e) => e.path === prefix)?.env, description: schema.description ?? "" }];
}

/** The configuration reference (docs/CONFIGURATION.md), as Markdown. */
export function configurationMarkdown(): string {
  const rows = describeSettings().map((s) => `| \`${s.path}\` | ${s.env ? `\`${s.env}\`` : "—"} | ${s.description.replace(/\|/g, "\\|")} |`);
  return [
    "# Configuration",
    "",
    "<!-- Generated from shared/config/schema.ts by `npm run docs:config`; a test fails when it is stale. -->",
    "",
    "Sources, later overriding earlier: defaults → the file named by `BROCAPI_CONFIG` (YAML, JSON, or the",
    "seed's INI `brocapi.conf` with `[main] [bro] [syslog]`) → environment variables. A bad value stops",
    "start-up with a message naming the setting, where it came from, and what is allowed.",
    "",
    "| Setting (file) | Environment | Meaning, unit and default |",
    "| --- | --- | --- |",
    ...rows,
    "",
    "## The seed's brocapi.conf",
    "",
    "`BROCAPI_CONFIG=/etc/brocapi.conf` reads the original INI file unchanged: `[main] debug` → `logLevel`",
    "debug; `[bro] bro_bin` → `zeek.bin`; `processing_dir` → `dataDir`; `log_blacklist` (a Python list",
    "literal) → `logs.blacklist`; `[syslog] syslog_host`, `syslog_port`, `syslog_proto` → `syslog.target`;",
    "`syslog_prefix` → `syslog.prefix`. `worker_log` and `api_log` are ignored: services log JSON to stdout.",
    "",
  ].join("\n");
}
