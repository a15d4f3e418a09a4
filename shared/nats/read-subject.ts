import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";

/**
 * Reads every message a stream holds on `subject` (wildcards allowed), oldest first, from
 * sequence `from`, and ends at the tail. Direct gets, one message each: nothing is created on
 * the server, so a read leaves nothing behind however often it is made (an ordered consumer
 * would stay for its inactivity threshold). The stream must allow direct gets.
 *
 * Any replica answers a direct get, and on an R3 stream a replica may lack messages already
 * acknowledged (by milliseconds after a write, by seconds after its node came back): it would
 * end the read early, and a log download, a reused analysis or a replay would silently miss the
 * tail. A replica that is behind holds a prefix of the stream, so what it returns is right and
 * only "nothing more" is in doubt: that answer is asked of the stream leader before the read ends
 * (`pollAgain`: not for a reader that polls, for which an early end is only a late read).
 * `leader`: every message from the stream leader, for a stream without direct gets, or a read
 * whose every answer decides something.
 */
export async function* readSubject(jsm: JetStreamManager, stream: string, subject: string, opts: { from?: number; pollAgain?: boolean; leader?: boolean } = {}): AsyncGenerator<StoredMsg> {
  for (let seq = opts.from ?? 1; ; ) {
    const m = opts.leader ? await leaderNext(jsm, stream, seq, subject) : ((await jsm.direct.getMessage(stream, { seq, next_by_subj: subject })) ?? (opts.pollAgain ? null : await leaderNext(jsm, stream, seq, subject)));
    if (!m) return;
    yield m;
    seq = m.seq + 1;
  }
}

/** The stream leader's next message on `subject` from `seq` (STREAM.MSG.GET; nats.js types only its seq and last-by-subject forms). */
function leaderNext(jsm: JetStreamManager, stream: string, seq: number, subject: string): Promise<StoredMsg | null> {
  return jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as MsgRequest);
}
