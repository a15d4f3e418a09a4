import type { NatsConnection } from "@nats-io/transport-node";

/** Whether the connection is up right now, kept from the client's status events. */
export interface ConnectionState {
  readonly connected: boolean;
}

/**
 * Follows a connection's disconnect/reconnect events, so a request can be refused at once while
 * NATS is away instead of waiting out a timeout with a half-read upload.
 */
export function trackConnection(nc: NatsConnection): ConnectionState {
  const state = { connected: !nc.isClosed() };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") state.connected = false;
      if (s.type === "reconnect") state.connected = true;
    }
    state.connected = false;
  })();
  void nc.closed().then(() => {
    state.connected = false;
  });
  return state;
}
