import type { KV } from "@nats-io/kv";
import { z } from "zod";
import { casUpdate } from "../nats/kv-cas.js";
import { readKeyFromLeader } from "../nats/kv-read.js";
import { sinkProgressSchema, type sinkAuditSchema } from "./job-record.js";
import { routeCheck, sinkRoutingSchema, type RouteCheck, type SinkRouting } from "./sink-routing.js";

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
 * The registry: every name, and the routing each instance last started with (what the api's job
 * status counts its expected lines by). A name without routing (recorded by a shipper from before
 * routing was, or in a registry written then) accepts everything.
 */
const registrySchema = z.object({ sinks: z.array(z.string()), routing: z.record(z.string(), sinkRoutingSchema).optional() });
type Registry = z.infer<typeof registrySchema>;
/** The registry as read, with each instance's routing made into its check (globs compiled). */
type ReadRegistry = Registry & { checks: Record<string, RouteCheck> };

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
   * with the routing it starts with: the latest start of an instance wins.
   */
  async register(name: string, routing: SinkRouting): Promise<void> {
    await casUpdate(this.kv, REGISTRY_KEY, (current): Registry => {
      const old: Registry = current === null ? { sinks: [] } : registrySchema.parse(current);
      return { sinks: old.sinks.includes(name) ? old.sinks : [...old.sinks, name].sort(), routing: { ...old.routing, [name]: routing } };
    });
  }

  private async registry(): Promise<ReadRegistry> {
    const entry = await this.kv.get(REGISTRY_KEY);
    if (entry?.operation !== "PUT") return { sinks: [], checks: {} };
    if (this.lastRegistry?.revision !== entry.revision) {
      const registry = registrySchema.parse(entry.json());
      const checks = Object.fromEntries(Object.entries(registry.routing ?? {}).map(([name, routing]) => [name, routeCheck(routing)]));
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

  /** ofJob, with the routing the registry holds for each instance that has a record, as its check (none: unknown, accepts everything). */
  async ofJobRouted(jobId: string): Promise<{ records: Record<string, SinkProgressRecord>; routing: Record<string, RouteCheck> }> {
    const registry = await this.registry();
    const names = registry.sinks;
    const entries = await Promise.all(names.map((name) => this.kv.get(`${jobId}.${name}`)));
    const records: Record<string, SinkProgressRecord> = {};
    const routing: Record<string, RouteCheck> = {};
    entries.forEach((entry, i) => {
      const name = names[i]!;
      if (entry?.operation !== "PUT") return;
      records[name] = sinkProgressSchema.parse(entry.json());
      const route = registry.checks[name];
      if (route) routing[name] = route;
    });
    return { records, routing };
  }

  async deleteJob(jobId: string): Promise<void> {
    await Promise.all(Object.keys(await this.ofJob(jobId)).map((name) => this.kv.purge(`${jobId}.${name}`)));
  }
}
