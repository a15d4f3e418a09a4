import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** Whether the connection is up right now, kept from the client's status events. */
export interface ConnectionState {
  readonly connected: boolean;
}

/**
 * Connects with unlimited reconnects: a NATS restart must pause the pipeline, not end it.
 * Disconnects and reconnects are logged for an operator and kept in `connection`, so a request
 * can be refused at once while NATS is away instead of waiting out a timeout.
 */
export async function connectNats(url: string, name: string, log: Logger): Promise<{ nc: NatsConnection; connection: ConnectionState }> {
  const nc = await connect({
    servers: url.split(",").map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  log.info({ event: "nats.connected", server: nc.getServer() }, "connected to NATS");
  const connection = { connected: true };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type !== "disconnect" && s.type !== "reconnect") continue;
      connection.connected = s.type === "reconnect";
      log.warn({ event: `nats.${s.type}`, status: s }, `NATS ${s.type}`);
    }
  })();
  void nc.closed().then(() => {
    connection.connected = false;
  });
  return { nc, connection };
}
