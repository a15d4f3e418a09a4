import type { ConsumerInfo } from "@nats-io/jetstream";
import { deliversJob } from "../../shared/jobs/sink-presence.js";
import type { SinkProgressRecord } from "../../shared/jobs/sink-progress-store.js";
import { deliversSince } from "../../shared/nats/topology.js";

/**
 * What an instance's record accounts for: lines delivered, refused for good by the destination,
 * and delivered again by replays. A shortfall is lines none of these covers.
 */
export const countedLines = (record: SinkProgressRecord | null): number => (record ? record.lines + (record.rejected ?? 0) + (record.replayed ?? 0) : 0);

/**
 * Whether the instance's consumer may have started after some of the job's lines were published
 * (`start: new` or a start time later than the job's submission), so its count says nothing
 * about a skip. Lines are published only after a job's `submittedAt` (taken when the upload was
 * complete), so a consumer started before it saw them all. The rule the api's job status lists
 * instances by (deliversSince, deliversJob).
 */
export const consumerStartedAfter = (info: Pick<ConsumerInfo, "config" | "created">, submittedAt: string): boolean => !deliversJob({ since: deliversSince(info) }, submittedAt);
