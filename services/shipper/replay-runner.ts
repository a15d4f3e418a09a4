import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { JobEvents } from "../../shared/events/job-events.js";
import { SinkProgressStore } from "../../shared/jobs/sink-progress-store.js";
import { decodeBatch, MalformedBatchError } from "../../shared/messages/log-batch.js";
import { readReplayRequest, type ReplayRequest } from "../../shared/messages/replay-request.js";
import { metrics } from "../../shared/metrics/registry.js";
import { readSubject } from "../../shared/nats/read-subject.js";
import { ensureReplayConsumer } from "../../shared/nats/topology.js";
import { sleep } from "../../shared/service/backoff.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import type { RoutePlan } from "./routing.js";
import type { SinkWriter } from "./sink-writer.js";

/** A replay in progress is heartbeated this often: the request stays with this process however long it takes. */
const REPLAY_ACK_WAIT_MS = 30_000;
const HEARTBEAT_EVERY_MS = 10_000;
const FLUSH_EVERY_BATCHES = 512;

/**
 * Takes the replay requests addressed to one sink instance (from its durable consumer on the
 * REPLAYS work queue, so exactly one of the instance's processes, on any host, takes each) and
 * delivers the job's retained lines again through the instance's own writer: its routing and
 * format apply, its writes are serialized with the live runner's. The lines are read from
 * `<prefix>.logs.*.<job>` by direct gets (readSubject: nothing left on the server), counted
 * as `replayed` on the job's record for the sink, and the request is acked at the end. A process
 * that dies mid-replay leaves the request unacked: it is taken again and the replay starts over
 * (the directory and elasticsearch sinks then skip what they have; others may repeat lines).
 */
export async function startReplayRunner(ctx: ServiceContext, writer: SinkWriter, routing: RoutePlan): Promise<RunningService> {
  const name = writer.name;
  const log = ctx.log.child({ subsystem: "replay", sink: name });
  const js = jetstream(ctx.nc);
  const durable = await ensureReplayConsumer(ctx.topology, name, REPLAY_ACK_WAIT_MS);
  const consumer = await js.consumers.get(ctx.topology.names.replayStream, durable);
  const ledger = new DeliveryLedger(name, new SinkProgressStore(ctx.topology.sinks), new JobEvents(js, ctx.topology.names, log), log, "replay");
  let stopping = false;

  const replay = async (request: JsMsg, { jobId }: ReplayRequest): Promise<boolean> => {
    log.info({ event: "replay.started", job: jobId }, `replaying job ${jobId} to ${name}`);
    const beat = setInterval(() => request.working(), HEARTBEAT_EVERY_MS);
    let lines = 0;
    try {
      for await (const m of readSubject(ctx.topology.jsm, ctx.topology.names.logsStream, ctx.topology.names.logsOfJob(jobId))) {
        if (stopping) return false;
        let batch;
        try {
          batch = decodeBatch(m.header, m.data);
        } catch (err) {
          if (err instanceof MalformedBatchError) continue;
          throw err;
        }
        // What the destination holds already is neither written nor counted again: a replay to an
        // idempotent sink (the audit's repair) ends with the count equal to the lines it holds.
        if (!routing.accepts(batch) || (await writer.holds(batch))) continue;
        const result = await writer.deliver(batch, { heartbeat: () => request.working(), failed: (job, message) => ledger.failed(job, message), stopping: () => stopping });
        if (!result) return false;
        // A batch the destination already holds (the directory sink's index) is not counted as replayed.
        const taken = result.alreadyDelivered ? 0 : batch.lineCount - result.rejected;
        ledger.delivered(jobId, taken, null);
        lines += taken;
        if (ledger.held >= FLUSH_EVERY_BATCHES) await ledger.flush();
      }
      await ledger.flush();
      log.info({ event: "replay.finished", job: jobId, lines }, `replayed ${lines} lines of job ${jobId} to ${name}`);
      return true;
    } finally {
      clearInterval(beat);
    }
  };

  const loop = (async () => {
    while (!stopping) {
      let request: JsMsg | null = null;
      try {
        request = await consumer.next({ expires: 1_000 });
      } catch (err) {
        // Asking for work failed (NATS restarting, a leader moving, a busy server): nothing was taken.
        log.debug({ event: "replay.poll_failed", err: (err as Error).message }, "could not ask for replay requests");
        await sleep(1_000);
        continue;
      }
      if (!request) continue;
      const asked = readReplayRequest(request.string());
      if (!asked) {
        // Not a request (anyone allowed to publish on the subject can put anything there): taken
        // back, it would come again after every pause and hold up the requests behind it forever.
        request.term();
        metrics.sinkErrors.inc({ sink: name, stage: "replay" });
        log.error({ event: "replay.malformed", seq: request.seq, bytes: request.data.length }, "a message on the replay subject is not a replay request; dropped");
        continue;
      }
      try {
        if (await replay(request, asked)) request.ack();
        else request.nak();
      } catch (err) {
        // The request comes back after a pause (a replay that fails in the middle starts over).
        request.nak(5_000);
        if (stopping) break;
        metrics.sinkErrors.inc({ sink: name, stage: "replay" });
        log.warn({ event: "replay.failed", err: (err as Error).message }, "replay failed; it will be retried");
        await sleep(1_000);
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      await loop;
      await ledger.flush();
    },
  };
}
