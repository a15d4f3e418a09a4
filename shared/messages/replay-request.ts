import type { JetStreamClient } from "@nats-io/jetstream";
import { z } from "zod";
import type { Names } from "../nats/names.js";

/**
 * A request to deliver a job's retained lines again to one sink instance, published by the api
 * on `<prefix>.replay.<sink name>` and taken by one process of that instance, on whatever host.
 */
const replayRequestSchema = z.object({
  jobId: z.string(),
  sink: z.string(),
  requestedAt: z.string(),
});
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

/** A stored request read back; null for anything else on the subject (not JSON, or not a request). */
export function readReplayRequest(text: string): ReplayRequest | null {
  try {
    const request = replayRequestSchema.safeParse(JSON.parse(text));
    return request.success ? request.data : null;
  } catch {
    return null;
  }
}

/**
 * Queues a replay of a job to one sink instance (its REPLAYS work queue). `msgID` makes repeats
 * within the stream's duplicate window one request: several processes of an instance that
 * decide the same repair at once queue it once.
 */
export async function queueReplay(js: JetStreamClient, names: Names, jobId: string, sink: string, msgID?: string): Promise<ReplayRequest> {
  const request: ReplayRequest = { jobId, sink, requestedAt: new Date().toISOString() };
  await js.publish(names.replaySubject(sink), JSON.stringify(request), msgID ? { msgID } : {});
  return request;
}
