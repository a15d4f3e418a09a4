import { z } from "zod";

/** HEC's answer body: `{"text":"Success","code":0}`, with `ackId` when indexer acknowledgement is on. */
export const hecAnswerSchema = z.object({ text: z.string(), code: z.number().int(), ackId: z.number().int().optional() }).loose();

/** `/services/collector/ack` answer: `{"acks":{"3":true,"4":false}}`. */
export const hecAcksSchema = z.object({ acks: z.record(z.string(), z.boolean()) });

/** What a HEC status code (Splunk docs, "Troubleshoot HTTP Event Collector") means for a batch. */
export type HecOutcome = "retry" | "settings" | "rejected";

/**
 * 8 internal error and 9 server busy: retried. 1–4 token disabled/required/invalid
 * authorization/invalid token, 7 incorrect index, 10–11 data channel missing/invalid, 14 ACK
 * disabled, 16 query-string authorization: the sink's settings are wrong; retried in place (shown
 * as the error) until they are fixed. 5 no data, 6 invalid data format, 12–13 event field
 * missing/blank, 15 indexed fields: the events themselves are refused: rejected.
 */
export function hecOutcome(code: number | undefined, httpStatus: number): HecOutcome {
  if (code === 5 || code === 6 || code === 12 || code === 13 || code === 15) return "rejected";
  if (code === 8 || code === 9 || httpStatus === 429 || httpStatus >= 500) return "retry";
  return "settings";
}
