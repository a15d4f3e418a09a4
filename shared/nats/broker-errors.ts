import { errors } from "@nats-io/transport-node";
import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import { PublishError } from "../objects/ack-window.js";

const UNAVAILABLE = [
  errors.ClosedConnectionError,
  errors.ConnectionError,
  errors.DrainingConnectionError,
  errors.NoRespondersError,
  errors.RequestError,
  errors.TimeoutError,
];

/**
 * True when an error means NATS (or JetStream) is away right now, rather than a bad request.
 * On a cluster that includes the server's own 503 answers ("JetStream system temporarily
 * unavailable"): no quorum, or a stream's leader being elected after a node died.
 */
export function isBrokerUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (UNAVAILABLE.some((cls) => e instanceof cls) || e instanceof JetStreamError) return true;
    if (e instanceof JetStreamApiError && e.status === 503) return true;
    if (e instanceof PublishError && e.unavailable) return true;
  }
  return false;
}
