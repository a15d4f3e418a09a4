import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/schema.js";
import type { Bucket } from "../objects/object-layout.js";
import { isBrokerUnavailable } from "./broker-errors.js";
import { natsNames, type Names } from "./names.js";

/** Handles every service needs, created idempotently so any service may start first. */
export interface Topology {
  names: Names;
  jsm: JetStreamManager;
  jobs: KV;
  pcaps: ObjectStore;
  /** The same bucket for the pipelined put and get of shared/objects (capture bytes in and out). */
  pcapBucket: Bucket;
  sinks: KV;
  analyses: KV;
}

/** Hours → nanoseconds for a max age, where 0 means "keep forever". */
const ageNanos = (hours: number): number => nanos(hours * 3_600_000);

function orNullWhen(code: number) {
  return (err: unknown): null => {
    if (err instanceof JetStreamApiError && err.code === code) return null;
    throw err;
  };
}

/** Every stream is file-backed with the configured replicas; the rest of its config is its own. */
async function ensureStream(jsm: JetStreamManager, replicas: number, own: Partial<StreamConfig> & { name: string }): Promise<void> {
  const cfg = { storage: StorageType.File, num_replicas: replicas, ...own };
  const existing = await jsm.streams.info(cfg.name).catch(orNullWhen(JetStreamApiCodes.StreamNotFound));
  if (!existing) {
    await jsm.streams.add(cfg);
    return;
  }
  // An existing stream keeps its data; only settings that may change in place are updated.
  const { retention: _r, storage: _s, ...changeable } = cfg;
  await updateIfChanged(jsm, cfg.name, changeable, existing.config);
}

/**
 * Updates a stream only where its settings differ. Services that start after the api find
 * nothing to change, so a least-privilege NATS user needs no right to update streams (which
 * could shorten their retention); see deploy/nats/secure.conf.
 */
async function updateIfChanged(jsm: JetStreamManager, name: string, wanted: Partial<StreamConfig>, current?: StreamConfig): Promise<void> {
  const now = current ?? (await jsm.streams.info(name)).config;
  const differs = Object.entries(wanted).some(([k, v]) => JSON.stringify(v) !== JSON.stringify((now as unknown as Record<string, unknown>)[k]));
  if (differs) await jsm.streams.update(name, wanted);
}

/** Creates or updates the streams and buckets described in docs/ARCHITECTURE.md. */
export async function ensureTopology(nc: NatsConnection, config: Config): Promise<Topology> {
  const names = natsNames(config.nats.prefix);
  const jsm = await jetstreamManager(nc);
  const replicas = config.nats.replicas;
  // Direct gets (allow_direct) let the api read tasks, log lines and events without a consumer.
  await ensureStream(jsm, replicas, { name: names.tasksStream, subjects: [names.tasksFilter], retention: RetentionPolicy.Workqueue, allow_direct: true });
  await ensureStream(jsm, replicas, {
    name: names.logsStream,
    subjects: [names.logsFilter],
    retention: RetentionPolicy.Limits,
    max_age: ageNanos(config.nats.logRetentionHours),
    max_bytes: config.nats.logRetentionBytes,
    duplicate_window: nanos(config.nats.duplicateWindowMs),
    allow_direct: true,
  });
  await ensureStream(jsm, replicas, {
    name: names.eventsStream,
    subjects: [names.eventsFilter],
    retention: RetentionPolicy.Limits,
    max_age: ageNanos(config.nats.jobRetentionHours),
    allow_direct: true,
  });
  await ensureStream(jsm, replicas, {
    name: names.jobsStream,
    subjects: [names.jobsFilter],
    retention: RetentionPolicy.Limits,
    max_age: ageNanos(config.nats.jobRetentionHours),
    allow_direct: true,
  });
  // A replay waits here until a process of its sink instance takes it, however long that is down.
  await ensureStream(jsm, replicas, { name: names.replayStream, subjects: [names.replayFilter], retention: RetentionPolicy.Workqueue, max_age: ageNanos(config.nats.jobRetentionHours) });
  const kvm = new Kvm(nc);
  // A bucket that already exists is opened as it is: its retention is then applied by update.
  const bucket = async (name: string, hours: number): Promise<KV> => {
    const kv = await kvm.create(name, { history: 1, replicas, storage: StorageType.File });
    await updateIfChanged(jsm, `KV_${name}`, { max_age: ageNanos(hours) });
    return kv;
  };
  const jobs = await bucket(names.jobsBucket, config.nats.jobRetentionHours);
  const sinks = await bucket(names.sinksBucket, config.nats.jobRetentionHours);
  const analyses = await bucket(names.analysesBucket, config.nats.pcapRetentionHours);
  const pcaps = await new Objm(nc).create(names.pcapsBucket, { replicas, storage: StorageType.File });
  await updateIfChanged(jsm, `OBJ_${names.pcapsBucket}`, { max_age: ageNanos(config.nats.pcapRetentionHours), max_bytes: config.nats.pcapRetentionBytes });
  const pcapBucket: Bucket = { nc, js: jetstream(nc), jsm, name: names.pcapsBucket };
  return { names, jsm, jobs, pcaps, pcapBucket, sinks, analyses };
}

/** The shared durable consumer of Zeek workers: explicit ack, bounded redelivery. */
export async function ensureWorkerConsumer(topology: Topology, config: Config): Promise<void> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: topology.names.workerConsumer,
    filter_subject: topology.names.tasksFilter,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(config.worker.ackWaitMs),
    max_deliver: config.worker.maxDeliver,
    max_ack_pending: 10_000,
  };
  await upsertConsumer(topology.jsm, topology.names.tasksStream, cfg);
}

/** Where a sink instance's consumer starts when it is first created. */
export type SinkStart = "all" | "new" | string;

function startPolicy(start: SinkStart): Partial<ConsumerConfig> {
  if (start === "all") return { deliver_policy: DeliverPolicy.All };
  if (start === "new") return { deliver_policy: DeliverPolicy.New };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start).toISOString() };
}

/**
 * The earliest job submission a sink instance's consumer delivers every line of, from what it was
 * created with (startPolicy; a later change of `start` does not apply to it): null for `all`
 * (every job the LOGS stream still holds), the start time for a time, and its creation otherwise:
 * `new` delivers the lines published from then on, and so does any policy Brocapi does not create
 * (`last`, a start sequence), at least. Times are made ISO with milliseconds, as a job's.
 */
export function deliversSince(info: Pick<ConsumerInfo, "created" | "config">): string | null {
  if (info.config.deliver_policy === DeliverPolicy.All) return null;
  const at = info.config.deliver_policy === DeliverPolicy.StartTime && info.config.opt_start_time ? info.config.opt_start_time : info.created;
  return new Date(at).toISOString();
}

/**
 * The durable consumer of one sink instance. Its start (all retained lines by default, so a sink
 * added later sees old jobs; new lines only; or from a time) applies when it is created. Its
 * subject filter follows the instance's routing: one `filter_subject`, or `filter_subjects` when
 * routing needs several (nats-server 2.10+). A changed filter is updated in place.
 */
export async function ensureSinkConsumer(
  topology: Topology,
  name: string,
  ackWaitMs: number,
  opts: { filterSubjects?: readonly string[]; start?: SinkStart } = {},
): Promise<string> {
  const durable = topology.names.sinkConsumer(name);
  const filters = opts.filterSubjects ?? [topology.names.logsFilter];
  await upsertConsumer(topology.jsm, topology.names.logsStream, {
    durable_name: durable,
    ...(filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: [...filters] }),
    ack_policy: AckPolicy.Explicit,
    ...startPolicy(opts.start ?? "all"),
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 4096,
  });
  return durable;
}

/** The durable consumer through which one sink instance's processes take its replay requests. */
export async function ensureReplayConsumer(topology: Topology, name: string, ackWaitMs: number): Promise<string> {
  const durable = topology.names.replayConsumer(name);
  await upsertConsumer(topology.jsm, topology.names.replayStream, {
    durable_name: durable,
    filter_subject: topology.names.replaySubject(name),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: -1,
  });
  return durable;
}

/** Times a consumer is created or updated when the broker does not answer, and the pause before each retry. */
const UPSERT_ATTEMPTS = 5;
const UPSERT_RETRY_MS = 1_000;

/**
 * Creates or updates a durable consumer. Both are idempotent, so a request the broker did not
 * answer (a busy R3 cluster can take longer than the request timeout, and a stream whose leader
 * is being elected answers 503) is made again rather than failing the service's start.
 */
async function upsertConsumer(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await upsertConsumerOnce(jsm, stream, cfg);
    } catch (err) {
      if (attempt >= UPSERT_ATTEMPTS || !isBrokerUnavailable(err)) throw err;
      await new Promise((r) => setTimeout(r, UPSERT_RETRY_MS * attempt));
    }
  }
}

async function upsertConsumerOnce(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig>): Promise<void> {
  const name = cfg.durable_name!;
  const existing = await jsm.consumers.info(stream, name).catch(orNullWhen(JetStreamApiCodes.ConsumerNotFound));
  if (!existing) {
    await jsm.consumers.add(stream, cfg);
    return;
  }
  // Where it starts is fixed at creation; the filter may change (routing edited) and is sent only then.
  const { durable_name: _d, deliver_policy: _p, opt_start_time: _t, filter_subject, filter_subjects, ...changeable } = cfg;
  const sameFilter = (existing.config.filter_subject ?? "") === (filter_subject ?? "") && (existing.config.filter_subjects ?? []).join(" ") === (filter_subjects ?? []).join(" ");
  // Every worker and shipper start comes here: an update that changes nothing is not sent (on
  // nats-server 2.9 it resets the delivery counts of messages in flight).
  const current = existing.config as unknown as Record<string, unknown>;
  if (sameFilter && Object.entries(changeable).every(([k, v]) => JSON.stringify(v) === JSON.stringify(current[k]))) return;
  await jsm.consumers.update(stream, name, sameFilter ? changeable : { ...changeable, ...(filter_subjects ? { filter_subjects } : { filter_subject }) });
}
