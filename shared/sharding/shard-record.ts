import { z } from "zod";
import { analysedBySchema, fileRecordSchema } from "../jobs/job-record.js";

/**
 * One shard of a sharded capture: its own key, `<job>.c.<n>.k.<shard>`, written by the worker
 * holding the shard's task (compare-and-set), like a capture's key for an unsharded capture.
 */
export const shardRecordSchema = fileRecordSchema
  .pick({ state: true, startedAt: true, finishedAt: true, durationMs: true, zeekExitCode: true, zeekStderr: true, error: true, lines: true, salvaged: true })
  .extend({
    index: z.number().int().min(0).describe("The shard's number, 0 … count-1"),
    count: z.number().int().min(2),
    attempts: z.number().int().default(0),
    analysedBy: analysedBySchema.optional().describe("The worker of the last attempt"),
    hostParts: z.number().int().min(0).default(0).describe("Keys holding this shard's per-host log lines, until the capture's are merged"),
  });
export type ShardRecord = z.infer<typeof shardRecordSchema>;

/** What a finished analysis (of a capture or of one shard) records: the fields both records share. */
export type Outcome = Pick<ShardRecord, "state" | "finishedAt" | "durationMs" | "zeekExitCode" | "zeekStderr" | "error" | "lines" | "salvaged">;

export const shardRecordKey = (jobId: string, index: number, shard: number): string => `${jobId}.c.${index}.k.${shard}`;
/** Part `part` of a shard's per-host log lines (JSON text cut into parts that fit a KV value). */
export const hostLinesKey = (jobId: string, index: number, shard: number, part: number): string => `${jobId}.c.${index}.h.${shard}.${part}`;

const CHAR = { queued: "q", running: "r", done: "d", failed: "f" } as const;
export const stateChar = (state: keyof typeof CHAR): string => CHAR[state];
export const isFinalChar = (c: string | undefined): boolean => c === "d" || c === "f";
export const allShardsFinal = (states: string): boolean => !/[qr]/.test(states);
