import { errors } from "@nats-io/transport-node";
import { JetStreamError } from "@nats-io/jetstream";

const UNAVAILABLE = [
  errors.ClosedConnectionError,
  errors.ConnectionError,
  errors.DrainingConnectionError,
  errors.NoRespondersError,
  errors.RequestError,
  errors.TimeoutError,
];

/** True when an error means NATS (or JetStream) is away right now, rather than a bad request. */
export function isBrokerUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (UNAVAILABLE.some((cls) => e instanceof cls) || e instanceof JetStreamError) return true;
  }
  return false;
}
