import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos, type Msg } from "@nats-io/transport-node";
import { inboxOf } from "./ack-window.js";
import { chunkSubject, objectStream, type Bucket, type ObjectMeta } from "./object-layout.js";

/** Thrown when the chunks read do not make up the object the meta describes, or stop coming. */
export class ObjectReadError extends Error {
  override readonly name = "ObjectReadError";
}

/** The server's header naming where a flow-control answer it is still waiting for should go. */
const STALLED_HEADER = "Nats-Consumer-Stalled";

/**
 * The delivery sequence of a consumer's message, from its `$JS.ACK` reply subject: `$JS.ACK.<stream>.
 * <consumer>.<delivered>.<stream seq>.<delivery seq>.<time>.<pending>`, or with `<domain>.<account
 * hash>` after `ACK` and a token more at the end.
 */
function deliverySeq(reply: string | undefined): number {
  const tokens = (reply ?? "").split(".");
  return Number(tokens.length === 9 ? tokens[6] : tokens[8]);
}

/**
 * The chunk messages of an object, in order, as the stock `os.get` reads them: a push consumer on
 * the object's chunk subject with flow control, delivering to an inbox of this connection. Unlike
 * the stock reader, the server's flow-control requests are answered only when the reader has taken
 * every chunk delivered before them, so the server runs at most its flow-control window (a few
 * chunks) ahead of a slow reader. Idle heartbeats tell a quiet server from a gone one: nothing at
 * all for three of them fails the read. The consumer is removed when the read ends, however it ends.
 */
export async function* feedChunks(source: Bucket, meta: ObjectMeta, heartbeatMs: number): AsyncGenerator<Uint8Array> {
  const { nc, jsm, name: bucket } = source;
  const stream = objectStream(bucket);
  const inbox = inboxOf(nc);
  const queue: Msg[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let lastHeard = Date.now();
  /** When the reader began waiting: a reader that paused is owed a fresh three heartbeats. */
  let waitingSince = 0;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const sub = nc.subscribe(inbox, {
    callback: (err, m) => {
      if (err) failure ??= err;
      else if (m.headers?.code === 100 && !m.reply) {
        // An idle heartbeat. One naming a stalled flow control while the reader waits with nothing
        // left to read means the answer was lost (a reconnect): answered again, or the read would hang.
        // It does not count as heard: a consumer with nothing left to send (chunks purged while
        // read, the job deleted) sends only these, and the read must fail, not wait forever.
        const stalled = m.headers.get(STALLED_HEADER);
        if (stalled && queue.length === 0 && wake) nc.publish(stalled);
        return;
      } else queue.push(m);
      lastHeard = Date.now();
      wakeUp();
    },
  });
  void sub.closed.then(() => {
    failure ??= new ObjectReadError(`object ${meta.name}: the connection closed while reading it`);
    wakeUp();
  });
  const watchdog = setInterval(() => {
    if (wake && Date.now() - Math.max(lastHeard, waitingSince) > 3 * heartbeatMs) {
      failure ??= new ObjectReadError(`object ${meta.name}: read ${delivered} of its ${meta.chunks} chunks, then nothing came for ${3 * heartbeatMs} ms`);
      wakeUp();
    }
  }, heartbeatMs).unref();
  let delivered = 0;
  let consumer: string | null = null;
  try {
    // Subscribed first: the consumer starts delivering as soon as it exists.
    consumer = (
      await jsm.consumers.add(stream, {
        filter_subject: chunkSubject(bucket, meta.nuid),
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        deliver_subject: inbox,
        flow_control: true,
        idle_heartbeat: nanos(heartbeatMs),
        mem_storage: true,
        // The server removes it on its own if this reader dies.
        inactive_threshold: nanos(Math.max(6 * heartbeatMs, 60_000)),
      })
    ).name;
    while (delivered < meta.chunks) {
      const m = queue.shift();
      if (!m) {
        if (failure) throw failure;
        waitingSince = Date.now();
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (m.headers?.code === 100) {
        // A flow-control request, reached in order: everything delivered before it has been read.
        m.respond();
        continue;
      }
      if (m.headers?.hasError) throw new ObjectReadError(`object ${meta.name}: the server ended the read after ${delivered} chunks: ${m.headers.code} ${m.headers.description}`);
      if (deliverySeq(m.reply) !== delivered + 1) throw new ObjectReadError(`object ${meta.name}: chunk ${deliverySeq(m.reply)} arrived after ${delivered}`);
      delivered++;
      yield m.data;
    }
  } finally {
    clearInterval(watchdog);
    sub.unsubscribe();
    if (consumer) void jsm.consumers.delete(stream, consumer).catch(() => undefined);
  }
}
