import { z } from "zod";

/**
 * A request to deliver a job's retained lines again to one sink instance, published by the api
 * on `<prefix>.replay.<sink name>` and taken by one process of that instance, on whatever host.
 */
export const replayRequestSchema = z.object({
  jobId: z.string(),
  sink: z.string(),
  requestedAt: z.string(),
});
export type ReplayRequest = z.infer<typeof replayRequestSchema>;
