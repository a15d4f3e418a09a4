import { jetstream, type ConsumerInfo } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { ErrorCodes } from "../../shared/errors.js";
import { isFinal } from "../../shared/jobs/job-record.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { SinkProgressStore, type SinkProgressRecord } from "../../shared/jobs/sink-progress-store.js";
import { acceptedLines } from "../../shared/jobs/sink-routing.js";
import { decodeBatch, MalformedBatchError } from "../../shared/messages/log-batch.js";
import { queueReplay, readReplayRequest } from "../../shared/messages/replay-request.js";
import { metrics } from "../../shared/metrics/registry.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { repeatEvery } from "../../shared/service/repeat-every.js";
import { consumerStartedAfter, countedLines } from "./job-shortfall.js";
import type { RoutePlan } from "./routing.js";

/**
 * Sequences of the jobs stream a new auditor looks back over: the last few hundred jobs (each
 * adds an index entry and an unfinished-job marker). Older jobs were audited by the processes
 * that ran then, or their lines are likely past the LOGS retention.
 */
const LOOK_BACK_SEQS = 1_000;

/** How a job's audit ended (`settled`, a metric label), or why it is looked at again next round. */
type AuditResult = "whole" | "replay" | "report" | "audited" | "started-after" | "routed-away" | "lines-expired" | "deleted";
type Verdict = { settled: AuditResult } | { wait: "running" | "behind" | "replaying" };

/**
 * What the audit of a final job needs that can no longer change, read once: the header is final,
 * so are its lines, and nothing is published to the job after it ended. Kept while the job is
 * pending, so a round in which the consumer is still behind reads nothing for the job.
 */
interface FinalJob {
  submittedAt: string;
  tag: string | null;
  /** The lines the instance's routing accepts, and of which log types. */
  expected: number;
  types: string[];
  /** The job's last batch of the accepted types (the highest sequence); null: a type gone from the stream (expired). */
  lastSeq: number | null;
}

/** A job listed in the index and not settled: its index entry, and what is kept once it is final. */
interface Listed {
  seq: number;
  /** When the index listed it (the jobs stream's clock): every batch of the job is published after. */
  listedAt: Date;
  final?: FinalJob;
}

export interface SinkAuditSpec {
  /** The instance's name (its consumer, its records, its replay queue). */
  name: string;
  routing: RoutePlan;
  /** Whether a shortfall is repaired by queueing a replay (else recorded and logged only). */
  autoReplay: boolean;
}

/**
 * One sink instance's audit of finished jobs. On nats-server 2.9 a replicated consumer can, on a
 * leader change, forget deliveries whose state reached no quorum and ack past messages the sink
 * never received (nats-server#6566, fixed in 2.11): the job ends `done` while the instance's
 * count stays short and nothing is pending. Each round takes the jobs listed in the job index
 * since the last round and looks again at those not settled yet, from durable state only (job
 * header, the instance's record, the consumer's ack floor, the stream), so a missed event or a
 * restart loses nothing. A job is short when, once final and once the consumer acked past its
 * last batch the routing accepts, the record accounts for fewer lines than those batches hold.
 * Several processes of an instance audit alike; the record's compare-and-set (and the replay's
 * msg id) make one of them act.
 */
export class SinkAuditor {
  private readonly jobs: JobStore;
  private readonly progress: SinkProgressStore;
  /**
   * Jobs listed but not settled, by id. Bounded by the index: a job leaves when settled (deleted
   * and expired jobs included), or when its index entry has left the jobs stream (retention).
   */
  private readonly pending = new Map<string, Listed>();
  /** The last index sequence read; null before the first round. */
  private scannedTo: number | null = null;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly spec: SinkAuditSpec,
    private readonly log: Logger,
  ) {
    this.jobs = new JobStore(ctx.topology);
    this.progress = new SinkProgressStore(ctx.topology.sinks);
  }

  /** One round: the jobs listed since the last, then every job not settled yet. */
  async round(): Promise<void> {
    await this.scanIndex();
    if (this.pending.size === 0) return;
    const { jsm, names } = this.ctx.topology;
    const consumer = await jsm.consumers.info(names.logsStream, names.sinkConsumer(this.spec.name));
    // Read once a round, and only when a job gets that far.
    let replays: Promise<Set<string>> | null = null;
    // A failed read is not kept: the next job that gets that far reads again.
    const replaying = async (id: string): Promise<boolean> =>
      (await (replays ??= this.jobsReplaying().catch((err: unknown) => {
        replays = null;
        throw err;
      }))).has(id);
    for (const [id, listed] of [...this.pending]) {
      try {
        const verdict = await this.audit(id, listed, consumer, replaying);
        if ("settled" in verdict) this.settle(id, verdict.settled);
      } catch (err) {
        this.log.warn({ event: "sink.audit_failed", job: id, err: (err as Error).message }, "could not audit a job; next round");
      }
    }
  }

  /**
   * Adds the jobs listed since the last round (at the first, those among the last LOOK_BACK_SEQS
   * sequences). The index is read to the end its stream leader knows (a replica behind would
   * answer "no more" for the newest entries), and the scan moves only as far as it read: an
   * entry not read now is read next round, never stepped over.
   */
  private async scanIndex(): Promise<void> {
    const { first, last } = await this.jobs.index.bounds();
    this.scannedTo ??= Math.max(first, last - LOOK_BACK_SEQS + 1) - 1;
    // Listed before the stream's first entry: the entry expired, and with it (same retention) the job.
    for (const [id, listed] of this.pending) if (listed.seq < first) this.settle(id, "deleted");
    for await (const { id, seq, time } of this.jobs.index.entriesFrom(this.scannedTo + 1)) {
      if (!this.pending.has(id)) this.pending.set(id, { seq, listedAt: time });
      this.scannedTo = seq;
    }
  }

  private settle(id: string, result: AuditResult): void {
    this.pending.delete(id);
    metrics.sinkAudits.inc({ sink: this.spec.name, result });
  }

  /**
   * The jobs with a replay to this instance queued or running: the REPLAYS work queue keeps a
   * request until its replay has ended and counted (acked), so each request there is one. Read
   * from the stream's leader: a replica behind could miss one just queued.
   */
  private async jobsReplaying(): Promise<Set<string>> {
    const { jsm, names } = this.ctx.topology;
    const jobs = new Set<string>();
    for await (const m of readSubject(jsm, names.replayStream, names.replaySubject(this.spec.name), { leader: true })) {
      // Not a request (not even JSON): no job to hold back; the runner meets it and fails it.
      const request = readReplayRequest(m.string());
      if (request) jobs.add(request.jobId);
    }
    return jobs;
  }

  private async audit(id: string, listed: Listed, consumer: ConsumerInfo, replaying: (id: string) => Promise<boolean>): Promise<Verdict> {
    const { name } = this.spec;
    if (!listed.final) {
      // The header alone says whether the job is final (a running job's summary would read its
      // shards every round); the update that ends a job copies its lines there.
      const header = await this.jobs.header(id);
      if (!header) return { settled: "deleted" };
      if (!isFinal(header.state)) return { wait: "running" };
      const lines = header.lines ?? (await this.jobs.summarise(header)).lines;
      const accepted = acceptedLines(lines, header.tag, this.spec.routing);
      const expected = Object.values(accepted).reduce((a, b) => a + b, 0);
      if (expected === 0) return { settled: "routed-away" };
      // Most jobs are whole by the time they are final: settled on the first look.
      const first = await this.progress.current(id, name);
      const settled = settledBy(first, expected);
      if (settled) return settled;
      // Before its last batches are looked up: a `start: new` instance meets every older job once.
      if (consumerStartedAfter(consumer, header.submittedAt)) return this.unauditable(id, "started-after", expected, countedLines(first));
      listed.final = { submittedAt: header.submittedAt, tag: header.tag, expected, types: Object.keys(accepted), lastSeq: await this.lastBatch(id, accepted) };
    }
    const job = listed.final;
    // (Again: a consumer made anew since, whose floor may stay where it began.)
    if (consumerStartedAfter(consumer, job.submittedAt)) return this.unauditable(id, "started-after", job.expected, countedLines(await this.progress.current(id, name)));
    // Every accepted batch acked: a batch is counted before it is acked (DeliveryLedger), so from
    // here the record holds everything this instance will ever count of the job on its own.
    // (Delivered-but-unacked batches, and those not yet delivered, keep the floor below.) Until
    // then nothing read could settle the job: nothing is read.
    if (job.lastSeq !== null && consumer.ack_floor.stream_seq < job.lastSeq) return { wait: "behind" };
    // A replay of the job queued or running: its lines are still coming. (Another job's replay
    // counts on that job's record only.)
    if (await replaying(id)) return { wait: "replaying" };
    const record = await this.progress.current(id, name);
    const settled = settledBy(record, job.expected);
    if (settled) return settled;
    // Deleted since it was first read (its batches purged, so the floor passed them): not a loss.
    if (!(await this.jobs.header(id))) return { settled: "deleted" };
    const counted = countedLines(record);
    if (job.lastSeq === null || !(await this.wholeInStream(id, listed.listedAt, job))) return this.unauditable(id, "lines-expired", job.expected, counted);
    return this.repair(id, job.tag, job.expected, counted);
  }

  /**
   * The job's last batch of the accepted types, from the stream's leader (a replica behind could
   * show an older one); null when a type is gone from the stream: it expired, and no replay could
   * bring it back.
   */
  private async lastBatch(id: string, accepted: Record<string, number>): Promise<number | null> {
    const { jsm, names } = this.ctx.topology;
    const seqs = await Promise.all(Object.keys(accepted).map(async (t) => (await jsm.streams.getMessage(names.logsStream, { last_by_subj: names.logSubject(t, id) }))?.seq ?? null));
    return seqs.some((s) => s === null) ? null : Math.max(...(seqs as number[]));
  }

  /**
   * Whether the LOGS stream still holds every batch of the job, so that a replay would bring
   * back all that is missing (its last batches alone say nothing of its first: the stream drops
   * its oldest messages first, by age or size, and a job straddling that edge has lost its
   * start). Nothing of the job can have gone while the stream's first message is older than the
   * job's listing, or when the stream never dropped one; only a job at the stream's edge is
   * counted batch by batch (what a replay of it would read).
   */
  private async wholeInStream(id: string, listedAt: Date, job: FinalJob): Promise<boolean> {
    const { jsm, names } = this.ctx.topology;
    const { state } = await jsm.streams.info(names.logsStream);
    // A job converted from the old layout is listed when converted, maybe long after its batches.
    const since = Math.min(listedAt.getTime(), Date.parse(job.submittedAt));
    if (state.first_seq <= 1 || Date.parse(state.first_ts) < since) return true;
    let held = 0;
    for await (const m of readSubject(jsm, names.logsStream, names.logsOfJob(id))) {
      try {
        const batch = decodeBatch(m.header, m.data);
        if (job.types.includes(batch.logType)) held += batch.lineCount;
      } catch (err) {
        // A batch no sink could take is not one a replay would bring back.
        if (!(err instanceof MalformedBatchError)) throw err;
      }
    }
    return held >= job.expected;
  }

  /**
   * A short count, final: a replay is queued first (its msg id makes the processes that found
   * the same shortfall queue one), then the finding is recorded on the instance's record; the
   * process whose write put it there logs it. Queued but not recorded (a crash between): the next
   * round finds the replay under way, then the count whole.
   */
  private async repair(id: string, tag: string | null, expected: number, counted: number): Promise<Verdict> {
    const { name, autoReplay } = this.spec;
    const missing = expected - counted;
    const action = autoReplay ? "replay" : "report";
    if (autoReplay) await queueReplay(jetstream(this.ctx.nc), this.ctx.topology.names, id, name, `audit:${id}:${name}`);
    const mine = await this.progress.recordAudit(id, name, { missing, action, at: new Date().toISOString() });
    if (mine) {
      const fields = { event: `sink.audit_${action}`, code: ErrorCodes.SINK_SHORTFALL, job: id, tag, expected, counted, missing };
      if (autoReplay) this.log.warn(fields, `${name} is ${missing} lines short of job ${id} with nothing pending: replay queued`);
      else this.log.warn({ ...fields, repair: `brocapi replay ${id} --sink ${name}` }, `${name} is ${missing} lines short of job ${id} with nothing pending; not replayed (autoReplay off): brocapi replay ${id} --sink ${name}`);
    }
    // Another process recorded it first (and queued the same replay, dropped as a repeat).
    return { settled: mine ? action : "audited" };
  }

  /**
   * Short, but nothing to judge or repair: said once, and left. Lines that expired before the
   * instance counted them are lost to it (a warning); an instance that started after the job
   * (`start: new`) is short of every job before it, which is no news (debug).
   */
  private unauditable(id: string, result: "started-after" | "lines-expired", expected: number, counted: number): Verdict {
    const fields = { event: "sink.audit_skipped", job: id, reason: result, expected, counted };
    if (result === "lines-expired") this.log.warn(fields, `${this.spec.name} is short of job ${id}, whose lines expired from the LOGS stream (all or the oldest of them): not repairable`);
    else this.log.debug(fields, `job ${id} not audited for ${this.spec.name}: the instance started after it`);
    return { settled: result };
  }
}

/** Settled by the record alone: a finding there already (another process, or before a restart), or the count whole. */
function settledBy(record: SinkProgressRecord | null, expected: number): Verdict | null {
  if (record?.audit) return { settled: "audited" };
  return countedLines(record) >= expected ? { settled: "whole" } : null;
}

/** Runs an instance's audit every `everyMs` (0: never), from `everyMs` after the start. */
export function startSinkAudit(ctx: ServiceContext, spec: SinkAuditSpec, everyMs: number): RunningService {
  if (everyMs === 0) return { stop: async () => undefined };
  const log = ctx.log.child({ subsystem: "audit", sink: spec.name });
  const auditor = new SinkAuditor(ctx, spec, log);
  return repeatEvery(
    everyMs,
    () => auditor.round(),
    // The broker away or busy: the jobs stay listed for the next round.
    (err) => log.warn({ event: "sink.audit_failed", err: err.message }, "audit round failed; next round"),
  );
}
