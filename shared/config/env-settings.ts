/** How an environment variable's text becomes a config value. */
type EnvKind = "string" | "number" | "list" | "words" | "boolean" | "json";

/** The environment variables Brocapi reads, each mapped to one config path. */
export const ENV_SETTINGS: ReadonlyArray<{ env: string; path: string; kind: EnvKind }> = [
  { env: "BROCAPI_LOG_LEVEL", path: "logLevel", kind: "string" },
  { env: "BROCAPI_DATA_DIR", path: "dataDir", kind: "string" },
  { env: "NATS_URL", path: "nats.url", kind: "string" },
  { env: "BROCAPI_NATS_SERVER_BIN", path: "nats.serverBin", kind: "string" },
  { env: "BROCAPI_NATS_PREFIX", path: "nats.prefix", kind: "string" },
  { env: "BROCAPI_NATS_REPLICAS", path: "nats.replicas", kind: "number" },
  { env: "BROCAPI_LOG_RETENTION_HOURS", path: "nats.logRetentionHours", kind: "number" },
  { env: "BROCAPI_LOG_RETENTION_BYTES", path: "nats.logRetentionBytes", kind: "number" },
  { env: "BROCAPI_PCAP_RETENTION_HOURS", path: "nats.pcapRetentionHours", kind: "number" },
  { env: "BROCAPI_PCAP_RETENTION_BYTES", path: "nats.pcapRetentionBytes", kind: "number" },
  { env: "BROCAPI_JOB_RETENTION_HOURS", path: "nats.jobRetentionHours", kind: "number" },
  { env: "BROCAPI_DUPLICATE_WINDOW_MS", path: "nats.duplicateWindowMs", kind: "number" },
  { env: "BROCAPI_NATS_USER", path: "nats.user", kind: "string" },
  { env: "BROCAPI_NATS_PASSWORD_FILE", path: "nats.passwordFile", kind: "string" },
  { env: "BROCAPI_NATS_TOKEN_FILE", path: "nats.tokenFile", kind: "string" },
  { env: "BROCAPI_NATS_NKEY_SEED_FILE", path: "nats.nkeySeedFile", kind: "string" },
  { env: "BROCAPI_NATS_CREDS_FILE", path: "nats.credsFile", kind: "string" },
  { env: "BROCAPI_NATS_TLS_CA_FILE", path: "nats.tlsCaFile", kind: "string" },
  { env: "BROCAPI_NATS_TLS_CERT_FILE", path: "nats.tlsCertFile", kind: "string" },
  { env: "BROCAPI_NATS_TLS_KEY_FILE", path: "nats.tlsKeyFile", kind: "string" },
  { env: "BROCAPI_HTTP_HOST", path: "http.host", kind: "string" },
  { env: "BROCAPI_HTTP_PORT", path: "http.port", kind: "number" },
  { env: "BROCAPI_MAX_FILE_BYTES", path: "http.maxFileBytes", kind: "number" },
  { env: "BROCAPI_MAX_FILES", path: "http.maxFiles", kind: "number" },
  { env: "BROCAPI_MAX_TOTAL_BYTES", path: "http.maxTotalBytes", kind: "number" },
  { env: "BROCAPI_MAX_INFLATE_RATIO", path: "http.maxInflateRatio", kind: "number" },
  { env: "BROCAPI_UPLOAD_TIMEOUT_MS", path: "http.uploadTimeoutMs", kind: "number" },
  { env: "BROCAPI_STATUS_MAX_AGE_MS", path: "http.statusMaxAgeMs", kind: "number" },
  { env: "BROCAPI_METRICS_PORT", path: "http.metricsPort", kind: "number" },
  { env: "BROCAPI_TLS_CERT_FILE", path: "http.tlsCertFile", kind: "string" },
  { env: "BROCAPI_TLS_KEY_FILE", path: "http.tlsKeyFile", kind: "string" },
  { env: "BROCAPI_AUTH_TOKENS_FILE", path: "auth.tokensFile", kind: "string" },
  { env: "BROCAPI_AUTH", path: "auth.mode", kind: "string" },
  { env: "BROCAPI_METRICS_AUTH", path: "auth.metrics", kind: "string" },
  { env: "ZEEK_BIN", path: "zeek.bin", kind: "string" },
  { env: "BROCAPI_ZEEK_SCRIPTS", path: "zeek.scripts", kind: "words" },
  { env: "BROCAPI_ZEEK_PROFILES", path: "zeek.profiles", kind: "json" },
  { env: "BROCAPI_LOG_FORMAT", path: "zeek.format", kind: "string" },
  { env: "BROCAPI_ZEEK_TIME_LIMIT_MS", path: "zeek.timeLimitMs", kind: "number" },
  { env: "BROCAPI_WORKER_CONCURRENCY", path: "worker.concurrency", kind: "number" },
  { env: "BROCAPI_WORKER_NAME", path: "worker.name", kind: "string" },
  { env: "BROCAPI_ACK_WAIT_MS", path: "worker.ackWaitMs", kind: "number" },
  { env: "BROCAPI_MAX_DELIVER", path: "worker.maxDeliver", kind: "number" },
  { env: "BROCAPI_BATCH_LINES", path: "worker.batchLines", kind: "number" },
  { env: "BROCAPI_PUBLISH_WINDOW", path: "worker.publishWindow", kind: "number" },
  { env: "BROCAPI_SALVAGE_TRUNCATED", path: "worker.salvageTruncated", kind: "boolean" },
  { env: "BROCAPI_SHARD_MIN_BYTES", path: "sharding.minBytes", kind: "number" },
  { env: "BROCAPI_SHARD_TARGET_BYTES", path: "sharding.targetBytes", kind: "number" },
  { env: "BROCAPI_SHARD_MAX", path: "sharding.max", kind: "number" },
  { env: "BROCAPI_REUSE_ANALYSES", path: "logs.reuseAnalyses", kind: "boolean" },
  { env: "BROCAPI_LOG_BLACKLIST", path: "logs.blacklist", kind: "list" },
  { env: "BROCAPI_SINKS", path: "sinks", kind: "list" },
  { env: "BROCAPI_SINK_AUDIT_EVERY_MS", path: "shipper.auditEveryMs", kind: "number" },
  { env: "BROCAPI_SYSLOG_TARGET", path: "syslog.target", kind: "string" },
  { env: "BROCAPI_SYSLOG_PREFIX", path: "syslog.prefix", kind: "string" },
  { env: "BROCAPI_SYSLOG_FORMAT", path: "syslog.format", kind: "string" },
  { env: "BROCAPI_SYSLOG_FRAMING", path: "syslog.framing", kind: "string" },
  { env: "BROCAPI_SYSLOG_TLS_CA_FILE", path: "syslog.tlsCaFile", kind: "string" },
  { env: "BROCAPI_SYSLOG_TLS_CERT_FILE", path: "syslog.tlsCertFile", kind: "string" },
  { env: "BROCAPI_SYSLOG_TLS_KEY_FILE", path: "syslog.tlsKeyFile", kind: "string" },
  { env: "BROCAPI_SYSLOG_FACILITY", path: "syslog.facility", kind: "number" },
  { env: "BROCAPI_SYSLOG_SEVERITY", path: "syslog.severity", kind: "number" },
  { env: "BROCAPI_SYSLOG_UDP_MAX_BYTES", path: "syslog.udpMaxBytes", kind: "number" },
  { env: "BROCAPI_LOG_DIR", path: "directory.root", kind: "string" },
];

/**
 * Turns an environment value into the type its setting wants. A number that does not parse is
 * passed on as text so that validation names the variable and the value.
 */
export function parseEnvValue(kind: EnvKind, text: string): unknown {
  switch (kind) {
    case "string":
      return text;
    case "number": {
      const n = Number(text.trim());
      return text.trim() !== "" && Number.isFinite(n) ? n : text;
    }
    case "list":
      // `none` names an empty list, so a default list can be switched off from the environment.
      return text.trim() === "none" ? [] : text.split(",").map((s) => s.trim()).filter(Boolean);
    case "words":
      return text.split(/[\s,]+/).filter(Boolean);
    case "json":
      // Text that is not JSON is passed on, so validation names the variable.
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    case "boolean": {
      const t = text.trim().toLowerCase();
      return ["1", "true", "yes", "on"].includes(t) ? true : ["0", "false", "no", "off"].includes(t) ? false : text;
    }
  }
}
