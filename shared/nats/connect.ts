import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/**
 * Connects with unlimited reconnects: a NATS restart must pause the pipeline, not end it.
 * Connection state changes are logged so an operator can see an outage.
 */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(",").map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  log.info({ event: "nats.connected", server: nc.getServer() }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect") log.warn({ event: `nats.${s.type}`, status: s }, `NATS ${s.type}`);
    }
  })();
  return nc;
}
