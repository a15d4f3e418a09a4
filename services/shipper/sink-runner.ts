import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { JobEvents } from "../../shared/events/job-events.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { SEEN_EVERY_MS } from "../../shared/jobs/sink-presence.js";
import { decodeBatch, MalformedBatchError, type LogBatch } from "../../shared/messages/log-batch.js";
import { deliversSince, ensureSinkConsumer, type SinkStart } from "../../shared/nats/topology.js";
import { sleep } from "../../shared/service/backoff.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { repeatEvery } from "../../shared/service/repeat-every.js";
import { metrics } from "../../shared/metrics/registry.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import type { RoutePlan } from "./routing.js";
import type { SinkWriter } from "./sink-writer.js";

/** Batches fetched at once. */
const FETCH_BATCHES = 64;
/**
 * How long one fetch waits for batches. The client gives a fetch up after two missed idle
 * heartbeats (half this each), while the server may still send to its inbox: a batch sent then
 * is dropped unread and comes back only after the ack wait, behind later batches, out of order.
 * A busy machine that stalls the event loop for a second must not trip that; a stop waits for
 * the fetch to end, so this also bounds how long a stop takes.
 */
const FETCH_EXPIRES_MS = 5_000;
/** How long a sink's batch may stay unacked without a heartbeat before NATS redelivers it. */
const SINK_ACK_WAIT_MS = 30_000;
/** Delivered batches are counted and acked at least this often, or once this many are held. */
const FLUSH_EVERY_MS = 1_000;
export const FLUSH_AT_BATCHES = 512;

/**
 * The messages of one fetch, in order, read ahead into `waiting` as they arrive. A batch NATS
 * delivered but the sink has not reached yet must be heartbeated like the one being retried, or
 * after the ack wait NATS hands it out again and a sink without an index (syslog) repeats it.
 * While no message comes for `idleMs`, yields `null`: the caller's moment to flush what it
 * holds without waiting for the fetch to end.
 */
async function* readAhead(msgs: AsyncIterable<JsMsg>, waiting: JsMsg[], idleMs: number): AsyncGenerator<JsMsg | null> {
  let ended = false;
  let failure: unknown = null;
  let wake = (_woken: boolean): void => undefined;
  // One timer for the whole fetch, re-armed at each wait rather than made anew per message.
  const idle = setTimeout(() => wake(false), idleMs);
  void (async () => {
    try {
      for await (const m of msgs) {
        waiting.push(m);
        wake(true);
      }
    } catch (err) {
      failure = err;
    } finally {
      ended = true;
      wake(true);
    }
  })();
  try {
    for (;;) {
      const m = waiting.shift();
      if (m) yield m;
      else if (failure) throw failure;
      else if (ended) return;
      else if (!(await new Promise<boolean>((resolve) => ((wake = resolve), idle.refresh())))) yield null;
    }
  } finally {
    clearTimeout(idle);
  }
}

/** A sink instance ready to run: its writer (sink, format), routing and start position. */
export interface SinkRunnerSpec {
  writer: SinkWriter;
  routing: RoutePlan;
  start: SinkStart;
}

/**
 * Feeds one sink instance from its durable consumer on the LOGS stream: batches in stream order,
 * each acked only after the sink took it and it was counted on its job. Batches its routing
 * skips are acked at once, unwritten. A failed write is retried in place with backoff (keeping
 * order, heartbeating every message it holds, written or still to write, so none is handed
 * elsewhere) until the sink recovers or the runner stops, when the batch and those behind it are
 * handed back with a nak.
 */
export async function startSinkRunner(ctx: ServiceContext, spec: SinkRunnerSpec): Promise<RunningService> {
  const { writer, routing } = spec;
  const name = writer.name;
  const log = ctx.log.child({ subsystem: "shipper", sink: name });
  const durable = await ensureSinkConsumer(ctx.topology, name, SINK_ACK_WAIT_MS, { filterSubjects: routing.filterSubjects, start: spec.start });
  const js = jetstream(ctx.nc);
  const consumer = await js.consumers.get(ctx.topology.names.logsStream, durable);
  const progress = new SinkProgressStore(ctx.topology.sinks);
  // Running, and from which jobs on it delivers: the api lists the instance for those jobs until it reports them.
  const since = deliversSince(await consumer.info(true));
  await progress.register(name, routing.rules, since);
  const presence = repeatEvery(
    SEEN_EVERY_MS,
    () => progress.markSeen(name, since),
    (err) => log.warn({ event: "sink.seen_failed", err: err.message }, "could not say in the registry that the instance runs; trying again next time"),
  );
  const ledger = new DeliveryLedger(name, progress, new JobEvents(js, ctx.topology.names, log), log);
  /** Of the current fetch: delivered by NATS, not yet handed to the sink. */
  let waiting: JsMsg[] = [];
  let stopping = false;
  let delivered = 0;
  let lastFlush = Date.now();

  const flushIfDue = async (force = false): Promise<void> => {
    if (force || ledger.held >= FLUSH_AT_BATCHES || Date.now() - lastFlush >= FLUSH_EVERY_MS) {
      lastFlush = Date.now();
      await ledger.flush();
    }
  };

  const deliver = (m: JsMsg, batch: LogBatch) =>
    writer.deliver(batch, {
      heartbeat: () => {
        m.working();
        for (const w of waiting) w.working();
        ledger.heartbeat();
      },
      failed: (jobId, message) => ledger.failed(jobId, message),
      stopping: () => stopping,
    });

  const loop = (async () => {
    while (!stopping) {
      try {
        const msgs = await consumer.fetch({ max_messages: FETCH_BATCHES, expires: FETCH_EXPIRES_MS });
        waiting = [];
        for await (const m of readAhead(msgs, waiting, FLUSH_EVERY_MS)) {
          if (m === null) {
            await flushIfDue();
            continue;
          }
          if (stopping) {
            m.nak();
            continue;
          }
          let batch: LogBatch;
          try {
            batch = decodeBatch(m.headers, m.data);
          } catch (err) {
            if (!(err instanceof MalformedBatchError)) throw err;
            log.error({ event: "sink.malformed", err: err.message, seq: m.seq }, "LOGS message without Brocapi headers; terminated");
            m.term();
            continue;
          }
          if (!routing.accepts(batch)) {
            metrics.batchesSkipped.inc({ sink: name });
            m.ack();
            continue;
          }
          const result = await deliver(m, batch);
          if (result?.alreadyDelivered) {
            // Held with the others and acked at the next flush, in order, without being counted again.
            ledger.delivered(batch.jobId, 0, m);
            await flushIfDue();
          } else if (result) {
            const lines = batch.lineCount - result.rejected;
            ledger.delivered(batch.jobId, lines, m, { lines: result.rejected, reason: result.reason });
            delivered += lines;
            metrics.linesDelivered.inc({ sink: name }, lines);
            await flushIfDue();
          } else {
            m.nak();
          }
        }
        await flushIfDue();
      } catch (err) {
        // Batches read ahead of the failure go back at once, in order, instead of after the ack wait.
        for (const w of waiting.splice(0)) w.nak();
        if (stopping) break;
        metrics.sinkErrors.inc({ sink: name, stage: "fetch" });
        log.warn({ event: "sink.fetch_failed", err: (err as Error).message }, "fetch from LOGS failed; retrying");
        await sleep(1_000);
      }
    }
    await flushIfDue(true);
  })();

  log.info({ event: "sink.started", consumer: durable, kind: writer.sink.kind, routing: routing.summary }, `${name} sink started`);
  return {
    async stop() {
      stopping = true;
      await Promise.all([loop, presence.stop()]);
      log.info({ event: "sink.stopped", linesDelivered: delivered }, `${name} sink stopped`);
    },
  };
}
