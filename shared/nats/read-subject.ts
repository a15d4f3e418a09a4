import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";

/**
 * Reads every message a stream holds on `subject` (wildcards allowed), oldest first, and ends at
 * the tail: an ordered consumer, which the server cleans up itself. With `headersOnly` the
 * payloads stay on the server (for counting lines without moving them).
 */
export async function* readSubject(js: JetStreamClient, stream: string, subject: string, opts: { headersOnly?: boolean } = {}): AsyncGenerator<JsMsg> {
  const consumer = await js.consumers.get(stream, { filter_subjects: subject, headers_only: opts.headersOnly ?? false });
  const info = await consumer.info(true);
  if (info.num_pending === 0) return;
  const messages = await consumer.consume({ max_messages: 256 });
  try {
    for await (const m of messages) {
      yield m;
      if (m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
}
