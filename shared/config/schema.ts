import { z } from "zod";
import { sinksSettingSchema, type SinkInstance } from "./sink-instance.js";
import { BUILT_IN_PROFILES, DEFAULT_PROFILE, profilesSchema, scriptList } from "./zeek-profile.js";

/** The seed's hard-coded skip list (brocapi_worker.py TYPE_BLACKLIST): never shipped. */
export const SEED_SKIPPED_LOG_TYPES = ["capture_loss", "stats", "loaded_scripts", "packet_filter"] as const;

const positiveInt = z.number().int().min(1);

/**
 * Every setting, declared once. The `.describe()` text is the documentation: unit and default
 * are part of it, and docs/CONFIGURATION.md is written from the same words.
 */
export const configSchema = z.object({
  logLevel: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("pino log level of every service. Default `info`."),
  dataDir: z
    .string()
    .min(1)
    .default("./data")
    .describe("Folder for the embedded NATS store, worker temp folders and (by default) the directory sink. Default `./data`."),
  nats: z
    .object({
      url: z
        .string()
        .optional()
        .describe("NATS server URL(s), comma-separated. Unset: `npm start` runs an embedded `nats-server -js` with its store in `<dataDir>/nats`."),
      serverBin: z
        .string()
        .optional()
        .describe("nats-server executable for the embedded server. Default: PATH, then /usr/sbin/nats-server."),
      prefix: z
        .string()
        .regex(/^[a-z][a-z0-9_-]{0,31}$/, "lower-case letters, digits, _ or -, starting with a letter")
        .default("brocapi")
        .describe("Prefix of every stream, bucket, consumer and subject, so several Brocapi installs can share one NATS. Default `brocapi`."),
      replicas: z
        .number()
        .int()
        .min(1)
        .max(5)
        .default(1)
        .describe("Replicas of streams and buckets (3 on a 3-node cluster). Default 1."),
      logRetentionHours: z
        .number()
        .min(0)
        .default(168)
        .describe("How long the LOGS stream keeps log lines, in hours (0 = forever); a sink added later replays what is kept, and `GET /jobs/:id/logs` reads from it. Default 168 (7 days)."),
      logRetentionBytes: z
        .number()
        .int()
        .min(-1)
        .default(-1)
        .describe("Most bytes the LOGS stream keeps; the oldest batches go first (-1 = no limit). Default -1."),
      pcapRetentionHours: z
        .number()
        .min(0)
        .default(168)
        .describe("How long uploaded captures are kept, in hours (0 = forever). Default 168 (7 days)."),
      pcapRetentionBytes: z
        .number()
        .int()
        .min(-1)
        .default(-1)
        .describe("Most bytes of captures kept (-1 = no limit); once reached, uploads are refused (507 BROCAPI_STORE_FULL) until captures expire or their jobs are deleted. Default -1."),
      jobRetentionHours: z
        .number()
        .min(0)
        .default(720)
        .describe("How long job records and their lifecycle events are kept, in hours (0 = forever). Default 720 (30 days)."),
      user: z.string().min(1).optional().describe("NATS user name; its password comes from `nats.passwordFile`."),
      passwordFile: z.string().min(1).optional().describe("File holding the NATS user's password (trailing newline ignored)."),
      tokenFile: z.string().min(1).optional().describe("File holding a NATS authentication token."),
      nkeySeedFile: z.string().min(1).optional().describe("File holding an NKey seed (`SU…`): the client signs the server's nonce with it."),
      credsFile: z.string().min(1).optional().describe("NATS credentials file (user JWT and NKey seed, as `nsc` writes it) for operator/account mode."),
      tlsCaFile: z.string().min(1).optional().describe("PEM CA the NATS server's certificate must chain to; setting it (or a client certificate) makes the connection TLS-only."),
      tlsCertFile: z.string().min(1).optional().describe("PEM client certificate for mutual TLS with NATS (with `nats.tlsKeyFile`)."),
      tlsKeyFile: z.string().min(1).optional().describe("PEM private key of `nats.tlsCertFile`."),
      duplicateWindowMs: z
        .number()
        .int()
        .min(1000)
        .default(300_000)
        .describe("Window in ms in which the LOGS stream drops a batch whose Nats-Msg-Id it has seen (a retried worker). Default 300000."),
    })
    .prefault({}),
  http: z
    .object({
      host: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Address the API (and a worker's or shipper's metrics) listens on. Default `127.0.0.1` without API tokens, `0.0.0.0` with them; any address but loopback needs `auth.tokensFile` or `auth.mode` `none`.",
        ),
      tlsCertFile: z.string().min(1).optional().describe("PEM certificate (chain) of the API: set with `http.tlsKeyFile` and the API speaks HTTPS only. Unset: plain HTTP."),
      tlsKeyFile: z.string().min(1).optional().describe("PEM private key of `http.tlsCertFile`."),
      port: z.number().int().min(0).max(65535).default(8080).describe("Port the API listens on (0: any free port). Default 8080."),
      maxFileBytes: positiveInt
        .default(8 * 1024 ** 3)
        .describe("Largest single uploaded capture, in bytes. Default 8589934592 (8 GiB)."),
      maxFiles: positiveInt
        .default(10_000)
        .describe(
          "Most captures in one submission. Default 10000: a job's records grow by one small key per capture and its summary not at all, so the limit guards the api's memory for the names and digests of one upload (about 600 bytes each) and the time to queue it (about 2 s here); tested at 10000 (test/scale/upload-many.test.ts); reasons: docs/LIMITS.md.",
        ),
      maxTotalBytes: positiveInt
        .default(64 * 1024 ** 3)
        .describe("Most bytes of captures in one submission, in bytes. Default 68719476736 (64 GiB)."),
      maxInflateRatio: z
        .number()
        .min(1)
        .default(100)
        .describe("A gzip or zstd upload is inflated as it arrives (the size limits apply to the inflated bytes); one that inflates to more than this many times its compressed size is refused with 413 (a decompression bomb). Default 100."),
      uploadTimeoutMs: positiveInt
        .default(3_600_000)
        .describe("Longest a submission may take to arrive, in ms; a slower one is answered 408 and nothing is kept. Default 3600000 (1 h)."),
      statusMaxAgeMs: z
        .number()
        .int()
        .min(0)
        .max(600_000)
        .default(1_000)
        .describe(
          "How old, in ms, an unfinished job's counts, lines and first page of captures in `GET /jobs/:id` may be. An api reads a running job's shards (up to 64) and first captures once per this time and job, and shares that read among all status reads of the job, so a read costs the same for 1 and 10000 captures; the job's header is read by every request, so the final state (and everything with it) is seen at once. 0: every request reads everything. Default 1000.",
        ),
      metricsPort: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(9464)
        .describe("Port of the Prometheus `/metrics` endpoint of a worker or shipper run alone (the api serves `/metrics` on its own port; 0: any free port). Default 9464."),
    })
    .prefault({}),
  auth: z
    .object({
      tokensFile: z
        .string()
        .min(1)
        .optional()
        .describe("YAML or JSON file of API tokens by SHA-256 digest, roles (`submit`, `read`, `admin`) and optional tag globs; written with `brocapi token create`, re-read when it changes. Unset: no tokens, and the API listens on loopback only."),
      mode: z
        .enum(["tokens", "none"])
        .optional()
        .describe("`none` runs the API without tokens on any address, on purpose; `tokens` insists on `auth.tokensFile`. Default: `tokens` when a tokens file is set."),
      metrics: z
        .enum(["open", "token"])
        .default("open")
        .describe("`token`: `/metrics` (api, and a worker's or shipper's metrics port) needs a valid API token of any role; `open`: it does not. Default `open`."),
    })
    .prefault({}),
  zeek: z
    .object({
      bin: z
        .string()
        .optional()
        .describe("Zeek executable. Default: `zeek` on PATH, then /opt/zeek/bin/zeek and /usr/local/zeek/bin/zeek."),
      scripts: scriptList
        .min(1)
        .default(["local"])
        .describe(`Scripts given to Zeek after \`-C -r -\` for jobs of the profile \`${DEFAULT_PROFILE}\` (every job that names no profile), unless \`zeek.profiles\` defines \`${DEFAULT_PROFILE}\` itself. Default \`local\`. In the environment: space- or comma-separated.`),
      profiles: profilesSchema.describe(
        `Analysis profiles a job may choose with the form field \`profile=\` (CLI \`--profile\`), by name (lower-case letters, digits, _ or -): \`{ scripts: [...], options: { Name: value }, description }\`; Zeek gets exactly \`-C -r - <scripts...> <Name=value...>\`, and a job naming any other profile is refused (400). \`${DEFAULT_PROFILE}\` is always there (from \`zeek.scripts\`). Default: ${Object.entries(BUILT_IN_PROFILES).map(([n, p]) => `\`${n}\` (${p.scripts.length ? p.scripts.map((s) => `\`${s}\``).join(", ") : "no scripts"})`).join(", ")}. Setting it replaces the defaults; in the environment: the same as JSON.`,
      ),
      format: z
        .enum(["tsv", "json"])
        .default("tsv")
        .describe("Zeek log format: `tsv` (Zeek's default) or `json` (adds `LogAscii::use_json=T`). Default `tsv`."),
      timeLimitMs: positiveInt
        .default(3_600_000)
        .describe("Wall-clock limit of one Zeek run, in ms; past it Zeek is killed and the capture fails. Default 3600000 (1 h)."),
    })
    .prefault({}),
  worker: z
    .object({
      concurrency: positiveInt.default(2).describe("Captures one worker process analyses at once. Default 2."),
      name: z
        .string()
        .min(1)
        .max(128)
        .optional()
        .describe("Name of this worker, recorded with host name and pid on every capture it analyses (`analysedBy`). Default `<host name>:<pid>`."),
      ackWaitMs: positiveInt
        .default(60_000)
        .describe("How long, in ms, a task may go without a heartbeat before NATS gives it to another worker. Default 60000."),
      maxDeliver: z
        .number()
        .int()
        .min(2)
        .default(5)
        .describe("Deliveries of one task before it is given up (the capture is marked failed). Default 5."),
      batchLines: positiveInt
        .max(100_000)
        .default(256)
        .describe("Consecutive log lines per LOGS message (1 allowed). Default 256."),
      publishWindow: positiveInt
        .default(64)
        .describe("LOGS messages a worker has in flight awaiting the server's ack. Default 64."),
      salvageTruncated: z
        .boolean()
        .default(true)
        .describe("A capture cut mid-packet (a killed tcpdump, an interrupted copy) is trimmed to its last whole packet before Zeek reads it, and marked `done` with a `salvaged` note; false: Zeek gets it as it is and refuses it (the capture fails, losing every packet). Default true."),
    })
    .prefault({}),
  sharding: z
    .object({
      minBytes: z
        .number()
        .int()
        .min(1)
        .default(512 * 1024 * 1024)
        .describe("`shards=auto`: captures smaller than this many bytes are analysed whole, as without sharding. Default 536870912 (512 MiB)."),
      targetBytes: z
        .number()
        .int()
        .min(1)
        .default(256 * 1024 * 1024)
        .describe("`shards=auto`: a capture of at least `minBytes` gets one shard per this many bytes (rounded up), at least 2 and at most `sharding.max`. Default 268435456 (256 MiB)."),
      max: z
        .number()
        .int()
        .min(2)
        .max(64)
        .default(16)
        .describe("Most shards one capture is split into, for `shards=auto` and for a number asked for (larger numbers are refused with 400). Every shard reads the whole capture from the object store (docs/SHARDING.md). Default 16, at most 64."),
    })
    .prefault({}),
  logs: z
    .object({
      reuseAnalyses: z
        .boolean()
        .default(false)
        .describe("Reuse the logs of a capture analysed before (same SHA-256, Zeek version, profile arguments, format and skip list) instead of running Zeek again; the new job still ships them with its own tag. Default false."),
      blacklist: z
        .array(z.string().min(1))
        .default(["telemetry"])
        .describe(
          `Log types never shipped, as \`conn\` or \`conn.log\`, on top of the seed's fixed list (${SEED_SKIPPED_LOG_TYPES.join(", ")}). Default \`telemetry\` (Zeek's own metrics, new since the seed; set the variable to \`none\` to ship it). In the environment: comma-separated.`,
        ),
    })
    .prefault({}),
  sinks: sinksSettingSchema,
  shipper: z
    .object({
      auditEveryMs: z
        .number()
        .int()
        .min(0)
        .default(10_000)
        .describe(
          "How often, in ms, each sink instance audits the jobs finished lately: once its consumer has acked past a job's last line, a count short of the lines its routing accepts is repaired by a replay or reported (nats-server 2.9's consumer skip; docs/SINKS.md, \"The audit\"). 0: no audit. Default 10000.",
        ),
    })
    .prefault({}),
  syslog: z
    .object({
      target: z
        .string()
        .regex(/^(tcp|udp|tls):\/\/[^/:\s]+:\d{1,5}$/, "tcp://host:port, udp://host:port or tls://host:port")
        .optional()
        .describe("Syslog receiver, `tcp://host:port`, `udp://host:port` or `tls://host:port` (RFC 5425, usually port 6514). Unset: no syslog sink."),
      prefix: z
        .string()
        .min(1)
        .default("bro_%s")
        .describe("Syslog program name; `%s` becomes the log type (e.g. `bro_conn`). Default `bro_%s`."),
      format: z
        .enum(["rfc3164", "rfc5424"])
        .default("rfc3164")
        .describe("Syslog message format. Default `rfc3164` (as the seed)."),
      framing: z
        .enum(["lf", "octet-counting"])
        .optional()
        .describe("TCP framing (RFC 6587): `lf` ends each message with a newline, `octet-counting` prefixes its length. Default `lf`; over `tls://` always `octet-counting` (RFC 5425 requires it)."),
      tlsCaFile: z.string().min(1).optional().describe("PEM CA a `tls://` receiver's certificate must chain to. Unset: the system's CAs."),
      tlsCertFile: z.string().min(1).optional().describe("PEM client certificate for a `tls://` receiver that asks for one (with `syslog.tlsKeyFile`)."),
      tlsKeyFile: z.string().min(1).optional().describe("PEM private key of `syslog.tlsCertFile`."),
      facility: z.number().int().min(0).max(23).default(3).describe("Syslog facility number. Default 3 (daemon)."),
      severity: z.number().int().min(0).max(7).default(5).describe("Syslog severity number. Default 5 (notice)."),
      udpMaxBytes: positiveInt
        .max(65_507)
        .default(8192)
        .describe("Largest UDP datagram, in bytes; longer messages are cut there (and counted). Default 8192."),
    })
    .prefault({}),
  directory: z
    .object({
      root: z
        .string()
        .optional()
        .describe("Root of the directory sink: `<root>/<job_id>/<log type>.log`. Default `<dataDir>/logs`."),
    })
    .prefault({}),
});

/** Configuration as written by a person (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** Configuration after validation, with every default applied and derived values resolved. */
export type Config = Readonly<
  Omit<z.output<typeof configSchema>, "sinks" | "directory" | "http"> & {
    /** Every sink instance, named; the shorthand's kinds become instances named after them. */
    sinks: ReadonlyArray<SinkInstance>;
    directory: { root: string };
    /** `host` resolved: loopback unless API tokens are configured. */
    http: z.output<typeof configSchema>["http"] & { host: string };
  }
>;
