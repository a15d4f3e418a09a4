import type { SinkInstance } from "../../shared/config/sink-instance.js";
import { includedTypes, routeCheck, type RouteCheck, type SinkRouting } from "../../shared/jobs/sink-routing.js";
import type { Names } from "../../shared/nats/names.js";

/**
 * How an instance's routing is carried out: what NATS filters, and what the runner still checks
 * (`accepts`, the whole routing, applied to every batch fetched: server-side filters never let in
 * more than it allows).
 */
export interface RoutePlan extends RouteCheck {
  /** The consumer's subject filter(s): one on nats-server 2.9, several from 2.10 on. */
  filterSubjects: string[];
  /** In words, for the start-up log and docs: what the server filters and what the runner skips. */
  summary: string;
  /** The routing itself, as the shipper records it in the sinks bucket's registry for the api's `expected` counts. */
  rules: SinkRouting;
}

/** `major.minor` of a server version string such as `2.9.10`. */
function atLeast(version: string, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = version.split(".").map(Number);
  return ma > major || (ma === major && mi >= minor);
}

const copyList = (l: { include?: readonly string[] | undefined; exclude: readonly string[] }): SinkRouting["logs"] => ({
  ...(l.include ? { include: [...l.include] } : {}),
  exclude: [...l.exclude],
});

/**
 * Turns an instance's routing into NATS subject filters where subjects can say it, and a check
 * for the rest. Subjects are `<prefix>.logs.<type>.<job>`: a log-type include list is a filter;
 * excludes (subjects have no negation) and tags (not in the subject) are checked by the runner,
 * which acks what it skips without writing it. nats-server 2.9 allows one filter per consumer,
 * so there only a single included type is filtered server-side; 2.10+ takes the whole list.
 */
export function planRouting(instance: Pick<SinkInstance, "logs" | "tags">, names: Names, serverVersion: string): RoutePlan {
  const excluded = new Set(instance.logs.exclude);
  const included = includedTypes(instance);
  const subject = (type: string): string => names.logSubject(type, "*");
  let filterSubjects = [names.logsFilter];
  if (included && included.length === 1) filterSubjects = [subject(included[0]!)];
  else if (included && included.length > 1 && atLeast(serverVersion, 2, 10)) filterSubjects = included.map(subject);
  // An include list that names nothing (all excluded): a filter no batch matches.
  if (included && included.length === 0) filterSubjects = [subject("-none-")];

  const serverSide = filterSubjects.length === 1 && filterSubjects[0] === names.logsFilter ? "every log type" : filterSubjects.join(", ");
  const clientSide = [
    included && filterSubjects[0] === names.logsFilter ? `log types ${included.join(", ")}` : null,
    excluded.size > 0 ? `not ${[...excluded].join(", ")}` : null,
    instance.tags.include ? `tags ${instance.tags.include.join(", ")}` : null,
    instance.tags.exclude.length > 0 ? `not tags ${instance.tags.exclude.join(", ")}` : null,
  ].filter(Boolean);
  return {
    filterSubjects,
    summary: `server filters ${serverSide}; runner skips ${clientSide.length > 0 ? `all but ${clientSide.join("; ")}` : "nothing"}`,
    accepts: routeCheck(instance).accepts,
    rules: { logs: copyList(instance.logs), tags: copyList(instance.tags) },
  };
}
