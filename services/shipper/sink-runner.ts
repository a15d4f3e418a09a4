import type { JsMsg } from "@nats-io/jetstream";
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { decodeBatch, MalformedBatchError, type LogBatch } from "../../shared/messages/log-batch.js";
import { ensureSinkConsumer } from "../../shared/nats/topology.js";
import { backoffMs, sleep } from "../../shared/service/backoff.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import type { Sink } from "./sinks/sink.js";

/** Batches a sink holds unacked at once; after a long outage at most this many may come again. */
const FETCH_BATCHES = 64;
const FETCH_EXPIRES_MS = 1_000;
/** How long a sink's batch may stay unacked without a heartbeat before NATS redelivers it. */
export const SINK_ACK_WAIT_MS = 30_000;

/**
 * Feeds one sink from its durable consumer on the LOGS stream: batches in stream order, each
 * acked only after the sink took it. A failed write is retried in place with backoff (keeping
 * order, and heartbeating the message so it is not handed elsewhere) until the sink recovers or
 * the runner stops, when the batch is handed back with a nak.
 */
export async function startSinkRunner(ctx: ServiceContext, sink: Sink): Promise<RunningService> {
  const log = ctx.log.child({ subsystem: "shipper", sink: sink.kind });
  const durable = await ensureSinkConsumer(ctx.topology, sink.kind, SINK_ACK_WAIT_MS);
  const consumer = await jetstream(ctx.nc).consumers.get(ctx.topology.names.logsStream, durable);
  let stopping = false;
  let delivered = 0;

  const deliver = async (m: JsMsg, batch: LogBatch): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await sink.write(batch);
        return true;
      } catch (err) {
        if (stopping) return false;
        const delay = backoffMs(attempt);
        log.warn({ event: "sink.write_failed", err: (err as Error).message, job: batch.jobId, log: batch.logType, attempt, retryInMs: delay }, "sink write failed; retrying");
        m.working();
        await sleep(delay);
      }
    }
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        const msgs = await consumer.fetch({ max_messages: FETCH_BATCHES, expires: FETCH_EXPIRES_MS });
        for await (const m of msgs) {
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
          if (await deliver(m, batch)) {
            m.ack();
            delivered += batch.lineCount;
          } else {
            m.nak();
          }
        }
      } catch (err) {
        if (stopping) break;
        log.warn({ event: "sink.fetch_failed", err: (err as Error).message }, "fetch from LOGS failed; retrying");
        await sleep(1_000);
      }
    }
  })();

  log.info({ event: "sink.started", consumer: durable }, `${sink.kind} sink started`);
  return {
    async stop() {
      stopping = true;
      await loop;
      await sink.close();
      log.info({ event: "sink.stopped", linesDelivered: delivered }, `${sink.kind} sink stopped`);
    },
  };
}
