// Whether a sink instance is running, and from which jobs on it delivers, as its processes record
// it in the sinks bucket's registry: what lets the api list an instance that has not reported a
// job yet (and `submit --wait` wait for it), and tell it from one that stopped.
import { z } from "zod";

/**
 * How often, in ms, each process of a running instance says so in the registry (skipped when
 * another process of the instance did within half of it: many processes do not multiply the writes).
 */
export const SEEN_EVERY_MS = 30_000;
/** An instance not seen for this long, in ms (three missed refreshes), is taken as stopped. */
export const LIVE_FOR_MS = 3 * SEEN_EVERY_MS;

/** One instance's presence in the registry. */
export const sinkSeenSchema = z.object({
  /** When a process of the instance last said it was running (ISO time, the shipper's clock). */
  at: z.string(),
  /**
   * The earliest job submission it delivers every line of, from its consumer's start policy:
   * `new`, the consumer's creation; a start time, that time; null for `all` (every job whose lines
   * the LOGS stream still holds).
   */
  since: z.string().nullable(),
});
export type SinkSeen = z.infer<typeof sinkSeenSchema>;

/** Whether the instance was seen running within LIVE_FOR_MS of `now` (ms since the epoch). */
export const isLive = (seen: SinkSeen, now: number): boolean => now - Date.parse(seen.at) <= LIVE_FOR_MS;

/** Whether a job submitted at `submittedAt` is one whose lines the instance's consumer delivers from its start. */
export const deliversJob = (seen: Pick<SinkSeen, "since">, submittedAt: string): boolean => seen.since === null || Date.parse(seen.since) <= Date.parse(submittedAt);

/**
 * Whether a job submitted at `submittedAt` is one the instance is still listed on without a record:
 * it was seen within `forMs` before the submission (or since). One not seen for longer than the
 * LOGS stream keeps lines has lost lines already (retired, renamed, or down past repair): listing
 * it on every later job forever would say nothing. 0: always listed (the stream keeps lines forever).
 */
export const listedOn = (seen: Pick<SinkSeen, "at">, submittedAt: string, forMs: number): boolean => forMs === 0 || Date.parse(submittedAt) - Date.parse(seen.at) <= forMs;

/** Whether a refresh written at `at` is recent enough for another process of the instance to skip its own. */
export const seenRecently = (seen: SinkSeen | undefined, now: number): boolean => seen !== undefined && now - Date.parse(seen.at) < SEEN_EVERY_MS / 2;
