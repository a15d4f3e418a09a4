import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

/**
 * Reads every message a stream holds on `subject` (wildcards allowed), oldest first, from
 * sequence `from`, and ends at the tail. Direct gets, one message each: nothing is created on
 * the server, so a read leaves nothing behind however often it is made (an ordered consumer
 * would stay for its inactivity threshold). The stream must allow direct gets.
 */
export async function* readSubject(jsm: JetStreamManager, stream: string, subject: string, opts: { from?: number } = {}): AsyncGenerator<StoredMsg> {
  for (let seq = opts.from ?? 1; ; ) {
    const m = await jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
    if (!m) return;
    yield m;
    seq = m.seq + 1;
  }
}
