import type { JetStreamManager } from "@nats-io/jetstream";
import { metrics } from "./registry.js";

/** On each scrape, reads pending and ack-pending counts of every consumer of these streams. */
export function collectConsumerGauges(jsm: JetStreamManager, streams: readonly string[]): void {
  metrics.collect(async () => {
    for (const stream of streams) {
      for await (const c of jsm.consumers.list(stream)) {
        const labels = { stream, consumer: c.name };
        metrics.consumerPending.set(labels, c.num_pending);
        metrics.consumerAckPending.set(labels, c.num_ack_pending);
      }
    }
  });
}
