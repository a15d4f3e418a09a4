import type { KV } from "@nats-io/kv";
import { casUpdate } from "../../shared/nats/kv-cas.js";

/**
 * Puts an instance into the sinks registry as its shipper leaves it when it stops: routed to the
 * `logs` types alone, last seen running at `lastSeen` (ISO), delivering every job. The product
 * writes `seen` only as "now" (SinkProgressStore's register and markSeen), so a test of an
 * instance stopped long ago writes the registry itself.
 */
export async function addStoppedInstance(kv: KV, name: string, logs: string[], lastSeen: string): Promise<void> {
  await casUpdate(kv, "registry", (current) => {
    const r = current as { sinks: string[]; routing?: Record<string, unknown>; seen?: Record<string, unknown> };
    return {
      sinks: [...r.sinks, name].sort(),
      routing: { ...r.routing, [name]: { logs: { include: logs, exclude: [] }, tags: { exclude: [] } } },
      seen: { ...r.seen, [name]: { at: lastSeen, since: null } },
    };
  });
}
