import { ConfigError } from "../errors.js";
import type { ConfigInput } from "./schema.js";

/** Parses INI text into sections of key → value (`;`/`#` comments, `key = value` or `key: value`). */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!.trim().toLowerCase(), current);
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (kv && current) current.set(kv[1]!.trim().toLowerCase(), kv[2]!.trim());
  }
  return sections;
}

/** The seed wrote its blacklist as a Python list literal: `["loaded_scripts.log", 'x.log']`. */
function parsePythonList(text: string, setting: string): string[] {
  const items = text.replace(/^\[|\]$/g, "").split(",").map((s) => s.trim().replace(/^["']|["']$/g, ""));
  if (!text.startsWith("[") || !text.endsWith("]")) {
    throw new ConfigError(`[bro] ${setting}: expected a list like ["loaded_scripts.log", "reporter.log"], got ${text}`);
  }
  return items.filter(Boolean);
}

const TRUE_WORDS = new Set(["1", "yes", "true", "on"]);

/**
 * Reads the seed's `/etc/brocapi.conf` ([main] [bro] [syslog]) so an existing install can point
 * BROCAPI_CONFIG at it unchanged. Settings with no meaning here (log file paths) are ignored.
 */
export function configFromSeedIni(text: string): ConfigInput {
  const ini = parseIni(text);
  const main = ini.get("main");
  const bro = ini.get("bro");
  const syslog = ini.get("syslog");
  const out: ConfigInput = {};
  const debug = main?.get("debug");
  if (debug !== undefined && TRUE_WORDS.has(debug.toLowerCase())) out.logLevel = "debug";
  const bin = bro?.get("bro_bin");
  const dir = bro?.get("processing_dir");
  const blacklist = bro?.get("log_blacklist");
  if (bin) out.zeek = { bin };
  if (dir) out.dataDir = dir;
  if (blacklist) out.logs = { blacklist: parsePythonList(blacklist, "log_blacklist") };
  const host = syslog?.get("syslog_host");
  if (syslog) {
    const proto = (syslog.get("syslog_proto") ?? "udp").toLowerCase();
    const sport = syslog.get("syslog_port") ?? "514";
    out.syslog = {
      ...(host ? { target: `${proto}://${host}:${sport}` } : {}),
      ...(syslog.get("syslog_prefix") ? { prefix: syslog.get("syslog_prefix")! } : {}),
    };
  }
  return out;
}
