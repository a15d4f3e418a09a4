import type { LogFormat } from "../messages/log-batch.js";

/**
 * How Zeek logs a per-host record once. It keeps a table of `entity` (e.g. the host) entries
 * that expire `expiry` seconds (network time) after they were created (Known::*_store_expiry,
 * Software's tracked hosts: 1 day); within an entry, a record is logged when its `item` (e.g.
 * the software's name) is new or its other fields changed (a new version). Fields in `ignored`
 * may differ between repeats of one record.
 */
interface OnceRule {
  ignored: readonly string[];
  expiry: number;
  /** Fields naming the expiring entry; absent: the whole record. */
  entity?: readonly string[];
  /** Fields naming a record within the entry; absent: the whole record. */
  item?: readonly string[];
}

const DAY = 86_400;

/**
 * Logs Zeek writes once per host (or host and service, certificate, software) whatever the
 * number of connections: every shard that saw the host writes its own row, and merging them
 * applies Zeek's rule again across shards (docs/SHARDING.md).
 */
export const PER_HOST_LOGS: ReadonlyMap<string, OnceRule> = new Map([
  ["known_hosts", { ignored: ["ts"], expiry: DAY }],
  ["known_services", { ignored: ["ts"], expiry: DAY }],
  ["known_certs", { ignored: ["ts"], expiry: DAY }],
  ["known_devices", { ignored: ["ts"], expiry: DAY }],
  // Software::tracked: per host, by software name; a new version is logged, the port it was seen on is not part of it.
  ["software", { ignored: ["ts", "host_p"], expiry: DAY, entity: ["host"], item: ["name"] }],
]);

/** One shard's rows of one per-host log: TSV with the header block Zeek wrote, or JSON lines. */
export interface HostLog {
  header: string[] | null;
  lines: string[];
}
export type HostLogs = Record<string, HostLog>;

interface Row {
  ts: number;
  fields: Record<string, unknown>;
  line: string;
}

function tsvRows(log: HostLog): Row[] {
  const names = (log.header?.find((l) => l.startsWith("#fields\t")) ?? "#fields\tts").split("\t").slice(1);
  return log.lines.map((line) => {
    const values = line.split("\t");
    const fields = Object.fromEntries(names.map((n, i) => [n, values[i]]));
    return { ts: Number(fields["ts"]), fields, line };
  });
}

function jsonRows(log: HostLog): Row[] {
  return log.lines.map((line) => {
    const fields = JSON.parse(line) as Record<string, unknown>;
    const ts = typeof fields["ts"] === "number" ? fields["ts"] : Date.parse(String(fields["ts"])) / 1000;
    return { ts, fields, line };
  });
}

/** The values of `names` (all fields but `ignored` when absent) as one key. */
function keyOf(fields: Record<string, unknown>, names: readonly string[] | undefined, ignored: readonly string[]): string {
  const picked = names ? names.map((n) => fields[n]) : Object.entries(fields).filter(([n]) => !ignored.includes(n));
  return JSON.stringify(picked);
}

/**
 * The shards' rows of per-host logs as Zeek would have written them from the whole capture: in
 * time order (rows of one time in shard order: Zeek writes those in hash order), each kept only
 * if Zeek's rule (OnceRule) would have logged it given the rows kept before it.
 * Holds every row of these logs at once: their size follows the number of hosts, not of packets.
 */
export function mergeHostLogs(format: LogFormat, shards: readonly HostLogs[]): HostLogs {
  const merged: HostLogs = {};
  const types = [...new Set(shards.flatMap((s) => Object.keys(s)))].sort();
  for (const type of types) {
    // A type not in this table was held back by a newer worker (old and new run side by side
    // during an upgrade, docs/DEPLOYMENT.md): merged by the Known::* rule, not dropped.
    const rule = PER_HOST_LOGS.get(type) ?? { ignored: ["ts"], expiry: DAY };
    const logs = shards.map((s) => s[type]).filter((l): l is HostLog => l !== undefined);
    const rows = logs.flatMap((l) => (format === "tsv" ? tsvRows(l) : jsonRows(l)));
    rows.sort((a, b) => a.ts - b.ts);
    const entries = new Map<string, { created: number; items: Map<string, string> }>();
    const lines: string[] = [];
    for (const r of rows) {
      const entity = keyOf(r.fields, rule.entity, rule.ignored);
      let entry = entries.get(entity);
      if (!entry || r.ts - entry.created >= rule.expiry) entries.set(entity, (entry = { created: r.ts, items: new Map() }));
      const item = keyOf(r.fields, rule.item, rule.ignored);
      const record = keyOf(r.fields, undefined, rule.ignored);
      if (entry.items.get(item) === record) continue;
      entry.items.set(item, record);
      lines.push(r.line);
    }
    merged[type] = { header: logs[0]?.header ?? null, lines };
  }
  return merged;
}

/** A shard's per-host logs as text parts of at most `partChars` characters (KV values have a size limit). */
export function toParts(logs: HostLogs, partChars: number): string[] {
  const text = JSON.stringify(logs);
  const parts: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + partChars);
    // Never between the two halves of a surrogate pair: each part must be valid UTF-8 on its own.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += end - 1 > at ? -1 : 1;
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts;
}

export function fromParts(parts: readonly string[]): HostLogs {
  return parts.length === 0 ? {} : (JSON.parse(parts.join("")) as HostLogs);
}
