import type { JetStreamManager } from "@nats-io/jetstream";
import { metaSubject, objectStream, type ObjectMeta } from "./object-layout.js";

/** An object's latest meta record, as the stock client reads it; null when the name was never stored. */
export async function readMeta(jsm: JetStreamManager, bucket: string, name: string): Promise<ObjectMeta | null> {
  const m = await jsm.streams.getMessage(objectStream(bucket), { last_by_subj: metaSubject(bucket, name) });
  return m ? (m.json() as ObjectMeta) : null;
}
