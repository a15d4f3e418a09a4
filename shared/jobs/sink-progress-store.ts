import type { KV } from "@nats-io/kv";
import { z } from "zod";
import { casUpdate } from "../nats/kv-cas.js";
import { readKeyFromLeader } from "../nats/kv-read.js";
import { sinkProgressSchema, type sinkAuditSchema } from "./job-record.js";
import { routeCheck, sinkRoutingSchema, type RouteCheck, type SinkRouting } from "./sink-routing.js";
import { seenRecently, sinkSeenSchema, type SinkSeen } from "./sink-presence.js";

export type SinkProgressRecord = z.infer<typeof sinkProgressSchema>;
export type SinkAudit = z.infer<typeof sinkAuditSchema>;

/** Counts to add to a sink's record: delivered lines, lines refused for good, lines replayed. */
export interface SinkDelta {
  lines?: number;
  rejected?: number;
  replayed?: number;
}

/** The sinks bucket's key listing every sink name that ever ran (never a job id, so never a job's key). */
const REGISTRY_KEY = "registry";
/**
 * The registry: every name, the routing each instance last started with (what the api's job
 * status counts its expected lines by), and when each was last seen running and from which jobs
 * on it delivers (sink-presence.ts). A name without routing (recorded by a shipper from before
 * routing was, or in a registry written then) accepts everything; one without `seen` (likewise)
 * is neither known to run nor known to have stopped.
 */
const registrySchema = z.object({
  sinks: z.array(z.string()),
  routing: z.record(z.string(), sinkRoutingSchema).optional(),
  seen: z.record(z.string(), sinkSeenSchema).optional(),
});
type Registry = z.infer<typeof registrySchema>;
/** The registry as read, with each instance's routing made into its check (globs compiled). */
type ReadRegistry = Registry & { checks: Record<string, RouteCheck> };

/** What the registry says of the instances, beside a job's records: each one's routing check and presence. */
export interface SinkInstances {
  /** By instance name; none: routing unknown (accepts everything). */
  routing: Record<string, RouteCheck>;
  /** By instance name; none: presence unknown. */
  seen: Record<string, SinkSeen>;
}

/**
 * Per job and sink instance, what was delivered, in the sinks KV bucket under `<job id>.<sink name>`.
 * Every process of a sink adds to the same record by compare-and-set, so the count is the sink's,
 * not one process's. A job's records are found without listing keys: each sink adds its name to
 * the `registry` key when it starts, and a reader gets `<job>.<name>` for every name there.
 */
export class SinkProgressStore {
  /**
   * The registry at its last revision read: every job status reads the registry, and parsing it
   * and compiling each instance's routing again per request is work for nothing until an
   * instance starts (a new revision).
   */
  private lastRegistry: { revision: number; registry: ReadRegistry } | null = null;

  constructor(private readonly kv: KV) {}

  /**
   * Adds a sink name to the registry (once; names are never removed, so old jobs stay readable)
   * with the routing it starts with (the latest start of an instance wins), seen running now,
   * delivering every job submitted from `since` on (SinkSeen).
   */
  async register(name: string, routing: SinkRouting, since: string | null): Promise<void> {
    await this.update(name, (old) => ({ ...old, routing: { ...old.routing, [name]: sinkRoutingSchema.parse(routing) }, seen: { ...old.seen, [name]: { at: new Date().toISOString(), since } } }));
  }

  /**
   * Says the instance is still running (every SEEN_EVERY_MS), unless another of its processes
   * said so within half of that: then nothing is written.
   */
  async markSeen(name: string, since: string | null): Promise<void> {
    await this.update(name, (old) => {
      const seen = old.seen?.[name];
      const now = Date.now();
      if (seen?.since === since && seenRecently(seen, now)) return old;
      return { ...old, seen: { ...old.seen, [name]: { at: new Date(now).toISOString(), since } } };
    });
  }

  /** A compare-and-set of the registry, the name added to it first (a registry replaced meanwhile gets it back). */
  private async update(name: string, change: (old: Registry) => Registry): Promise<void> {
    await casUpdate(this.kv, REGISTRY_KEY, (current): Registry => {
      const old: Registry = current === null ? { sinks: [] } : registrySchema.parse(current);
      return change(old.sinks.includes(name) ? old : { ...old, sinks: [...old.sinks, name].sort() });
    });
  }

  private async registry(): Promise<ReadRegistry> {
    const entry = await this.kv.get(REGISTRY_KEY);
    if (entry?.operation !== "PUT") return { sinks: [], checks: {} };
    if (this.lastRegistry?.revision !== entry.revision) {
      const registry = registrySchema.parse(entry.json());
      // Most new revisions are refreshes of `seen`: a routing that did not change keeps its check.
      const last = this.lastRegistry?.registry;
      const checks = Object.fromEntries(
        Object.entries(registry.routing ?? {}).map(([name, routing]) => {
          const kept = last?.checks[name] && JSON.stringify(last.routing?.[name]) === JSON.stringify(routing) ? last.checks[name] : routeCheck(routing);
          return [name, kept];
        }),
      );
      this.lastRegistry = { revision: entry.revision, registry: { ...registry, checks } };
    }
    return this.lastRegistry.registry;
  }

  /** Every sink instance name that ever ran: what a replay may name. */
  async names(): Promise<string[]> {
    return (await this.registry()).sinks;
  }

  /**
   * Adds the counts in `delta`, and records `error` as the last error with its time; a last error
   * stays after recovery (compare `lastErrorAt` with `updatedAt`). Returns the new record.
   */
  async add(jobId: string, sink: string, delta: SinkDelta, error: string | null): Promise<SinkProgressRecord> {
    return casUpdate(this.kv, `${jobId}.${sink}`, (current) => {
      const now = new Date().toISOString();
      const old: Omit<SinkProgressRecord, "updatedAt"> = current === null ? { lines: 0 } : sinkProgressSchema.parse(current);
      const sum = (key: "rejected" | "replayed"): { [k: string]: number } => (delta[key] || old[key] !== undefined ? { [key]: (old[key] ?? 0) + (delta[key] ?? 0) } : {});
      return { ...old, lines: old.lines + (delta.lines ?? 0), ...sum("rejected"), ...sum("replayed"), updatedAt: now, ...(error ? { lastError: error, lastErrorAt: now } : {}) };
    });
  }

  /** One instance's record for a job as the bucket's leader holds it (null: nothing counted yet). */
  async current(jobId: string, sink: string): Promise<SinkProgressRecord | null> {
    const entry = await readKeyFromLeader(this.kv, `${jobId}.${sink}`);
    return entry?.operation === "PUT" ? sinkProgressSchema.parse(entry.json()) : null;
  }

  /**
   * Records an audit's finding on the instance's record unless one is there already; true for the
   * one caller whose write put it there (several processes of an instance audit the same job).
   */
  async recordAudit(jobId: string, sink: string, audit: SinkAudit): Promise<boolean> {
    let recorded = false;
    await casUpdate(this.kv, `${jobId}.${sink}`, (current) => {
      const old: SinkProgressRecord = current === null ? { lines: 0, updatedAt: audit.at } : sinkProgressSchema.parse(current);
      recorded = old.audit === undefined;
      return recorded ? { ...old, audit, updatedAt: audit.at } : old;
    });
    return recorded;
  }

  /** Every sink's record for a job, by instance name: direct gets, no key listing. */
  async ofJob(jobId: string): Promise<Record<string, SinkProgressRecord>> {
    return (await this.ofJobRouted(jobId)).records;
  }

  /** ofJob, with what the same read of the registry says of every instance (its routing check and presence). */
  async ofJobRouted(jobId: string): Promise<SinkInstances & { records: Record<string, SinkProgressRecord> }> {
    const registry = await this.registry();
    const names = registry.sinks;
    const entries = await Promise.all(names.map((name) => this.kv.get(`${jobId}.${name}`)));
    const records: Record<string, SinkProgressRecord> = {};
    entries.forEach((entry, i) => {
      if (entry?.operation === "PUT") records[names[i]!] = sinkProgressSchema.parse(entry.json());
    });
    return { records, routing: registry.checks, seen: registry.seen ?? {} };
  }

  async deleteJob(jobId: string): Promise<void> {
    await Promise.all(Object.keys(await this.ofJob(jobId)).map((name) => this.kv.purge(`${jobId}.${name}`)));
  }
}
