// Which lines a sink instance takes, as a pure check on a batch's log type and job tag: the
// shipper's runner applies it to every batch, the audit and the api's job status count a job's
// lines with it (so `expected` in `GET /jobs/:id` is the audit's expected, not a second rule).
import { z } from "zod";
import type { BatchOrigin } from "../messages/log-batch.js";

/**
 * An instance's routing as the shipper records it in the sinks bucket's registry: log types
 * (`include`, default all, minus `exclude`) and job tag globs alike. The config's own schema
 * (shared/config/sink-instance.ts) has already normalised `conn.log` to `conn`.
 */
export const sinkRoutingSchema = z.object({
  logs: z.object({ include: z.array(z.string()).optional(), exclude: z.array(z.string()) }),
  tags: z.object({ include: z.array(z.string()).optional(), exclude: z.array(z.string()) }),
});
export type SinkRouting = z.infer<typeof sinkRoutingSchema>;
type RoutingInput = { logs: { include?: readonly string[] | undefined; exclude: readonly string[] }; tags: { include?: readonly string[] | undefined; exclude: readonly string[] } };

/** Whether a batch (or a job's lines of one type) is one the instance ships. */
export interface RouteCheck {
  accepts(batch: Pick<BatchOrigin, "logType" | "tag">): boolean;
}

/** `case-*` / `site-?`: `*` any run of characters, `?` one; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/** The log types an include list leaves after its excludes (null: every type not excluded). */
export function includedTypes(routing: RoutingInput): string[] | null {
  const excluded = new Set(routing.logs.exclude);
  return routing.logs.include ? [...new Set(routing.logs.include)].filter((t) => !excluded.has(t)) : null;
}

/** The whole routing as one check: included and not excluded log type, included and not excluded tag (a job without a tag matches only `*`). */
export function routeCheck(routing: RoutingInput): RouteCheck {
  const included = includedTypes(routing);
  const excluded = new Set(routing.logs.exclude);
  const tagIn = routing.tags.include?.map(globToRegExp) ?? null;
  const tagOut = routing.tags.exclude.map(globToRegExp);
  return {
    accepts(batch) {
      if (included && !included.includes(batch.logType)) return false;
      if (excluded.has(batch.logType)) return false;
      const tag = batch.tag ?? "";
      if (tagIn && !tagIn.some((r) => r.test(tag))) return false;
      return !tagOut.some((r) => r.test(tag));
    },
  };
}

/**
 * The log types of a job that a sink instance's routing accepts, with the lines the workers
 * published of each (the job's `lines`): what the instance must end up counting. Types without
 * lines are left out: they have no batch for the consumer to pass.
 */
export function acceptedLines(lines: Readonly<Record<string, number>>, tag: string | null, routing: RouteCheck): Record<string, number> {
  return Object.fromEntries(Object.entries(lines).filter(([logType, n]) => n > 0 && routing.accepts({ logType, tag })));
}

/** All the lines acceptedLines keeps, every type together. */
export const acceptedTotal = (lines: Readonly<Record<string, number>>, tag: string | null, routing: RouteCheck): number =>
  Object.values(acceptedLines(lines, tag, routing)).reduce((a, b) => a + b, 0);
