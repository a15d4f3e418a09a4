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
 * unavailable"): no quorum, or a stream's leader being elected after a node died. A pipelined
 * put's PublishError says itself: a stream refusing the message (full, or the wrong stream) is
 * no broker away, though it is a JetStream error.
 */
export function isBrokerUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof PublishError) return e.unavailable;
    if (UNAVAILABLE.some((cls) => e instanceof cls) || e instanceof JetStreamError) return true;
    if (e instanceof JetStreamApiError && e.status === 503) return true;
    // The connected node's JetStream is not up (a node just restarted into a cluster); the class
    // is not exported by @nats-io/jetstream's public module, its name is stable.
    if (e.name === "JetStreamNotEnabled") return true;
  }
  return false;
}
