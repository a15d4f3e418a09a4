import { z } from "zod";

/** A sink instance's name: part of its consumer name, its KV key and its replay subject. */
export const SINK_NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;

/** `conn` or `conn.log`, as `logs.blacklist` takes them. */
const LOG_TYPE = /^[A-Za-z0-9_-]+(\.log)?$/;

const logTypeList = z.array(z.string().regex(LOG_TYPE, "a log type such as conn (letters, digits, _ or -)").transform((t) => t.replace(/\.log$/, "")));
const globList = z.array(z.string().min(1));

/**
 * One entry of `sinks` in the config file: a named instance of a sink kind. Its `options` are
 * checked by the kind's own schema when the shipper starts (a plugin's kind is only known then).
 */
export const sinkInstanceSchema = z
  .object({
    kind: z.string().min(1).optional().describe("Built-in sink kind: `directory`, `syslog`, `http`, `elasticsearch`, `splunk-hec`, `stdout`. Omitted with `plugin`."),
    plugin: z
      .string()
      .min(1)
      .optional()
      .describe("A sink kind from outside Brocapi: a module path (absolute, or relative to the config file) or an installed package name, exporting a sink factory (docs/SINKS.md)."),
    options: z.record(z.string(), z.unknown()).default({}).describe("The kind's settings, checked by its own schema at start."),
    logs: z
      .object({ include: logTypeList.optional(), exclude: logTypeList.default([]) })
      .prefault({})
      .describe("Log types this instance ships: `include` (default all) minus `exclude`."),
    tags: z
      .object({ include: globList.optional(), exclude: globList.default([]) })
      .prefault({})
      .describe("Job tags this instance ships, as globs (`case-*`, `?` one character): `include` (default all; a job without a tag matches only `*`) minus `exclude`."),
    format: z
      .enum(["as-written", "json"])
      .optional()
      .describe("`as-written` (as Zeek wrote it) or `json` (TSV converted to Zeek's JSON lines). Default: the kind's own (`as-written` for syslog and directory, `json` for the others)."),
    start: z
      .union([z.enum(["all", "new"]), z.iso.datetime({ offset: true })])
      .default("all")
      .describe("Where a new instance starts in the LOGS stream: `all` retained lines, `new` lines only, or an ISO time. Only read when its consumer is created."),
    autoReplay: z
      .boolean()
      .optional()
      .describe(
        "What the audit does when this instance's count for a finished job stays short of the lines its routing accepts after its consumer passed them all (nats-server 2.9's consumer skip): `true` queues a replay of the job to it, `false` records the shortfall on the job and logs the repair command. Default `true` for sinks that can tell which batches they hold (directory: the replay writes only what is missing), `false` for the others (syslog, http, elasticsearch, splunk-hec, stdout, most plugins), where a replay sends the whole job again.",
      ),
  })
  .strict()
  .refine((s) => Boolean(s.kind) !== Boolean(s.plugin), { message: "give either `kind` (a built-in sink) or `plugin` (a module), not both or neither" });

export type SinkInstanceInput = z.input<typeof sinkInstanceSchema>;

/** A sink instance as the shipper runs it: named, its options still unchecked, where it was declared. */
export interface SinkInstance {
  name: string;
  /** Built-in kind, or the plugin's kind once loaded (until then the plugin specifier). */
  kind: string;
  plugin?: string;
  /** Directory of the config file, for resolving a relative plugin path. */
  baseDir: string;
  options: Record<string, unknown>;
  logs: { include?: readonly string[]; exclude: readonly string[] };
  tags: { include?: readonly string[]; exclude: readonly string[] };
  format?: "as-written" | "json";
  start: "all" | "new" | string;
  /** Whether the audit replays a short job by itself; unset: only to a sink that can tell which batches it holds. */
  autoReplay?: boolean;
  /** Where it was declared, for error messages: the config file or the environment variables. */
  source: string;
}

/** `sinks:` is either the shorthand (kinds, one instance each, named after the kind) or named instances. */
export const sinksSettingSchema = z
  .union([z.array(z.string().regex(SINK_NAME, "a sink kind such as syslog")), z.record(z.string().regex(SINK_NAME, "lower-case letters, digits, _ or -"), sinkInstanceSchema)])
  .optional()
  .describe(
    "Sinks the shipper runs. Shorthand: a list of kinds (`directory`, `syslog`, `stdout`), one instance each named after its kind, with the `syslog` and `directory` settings below. Or named instances (config file only), `name: {kind | plugin, options, logs, tags, format, start}`: see docs/SINKS.md. Default: `directory`, plus `syslog` when a syslog target is set. In the environment: comma-separated kinds.",
  );
