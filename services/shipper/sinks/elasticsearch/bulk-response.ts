import { z } from "zod";

/** The parts of a `_bulk` answer the sink reads (Elasticsearch and OpenSearch alike). */
export const bulkResponseSchema = z.object({
  errors: z.boolean(),
  items: z.array(
    z.record(
      z.string(),
      z.object({
        status: z.number().int(),
        error: z.object({ type: z.string(), reason: z.string().nullish() }).loose().optional(),
      }).loose(),
    ),
  ),
});

/** What became of one document of a bulk request. */
export type ItemOutcome = "indexed" | "retry" | "rejected";

/**
 * `create` answers: 201 indexed; 409 (version_conflict_engine_exception) means a document with
 * that `_id` exists, i.e. this line was indexed before (a redelivered batch): indexed. 429
 * (es_rejected_execution_exception) and 503 are the node's load: retried. Anything else
 * (400 mapper_parsing_exception, 404 index_not_found_exception, …) will not change on retry:
 * rejected.
 */
export function itemOutcome(status: number): ItemOutcome {
  if ((status >= 200 && status < 300) || status === 409) return "indexed";
  if (status === 429 || status === 503) return "retry";
  return "rejected";
}
