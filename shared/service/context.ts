import { setSha256Backend } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import { connectNats, type ConnectionState } from "../nats/connect.js";
import { natsCredentials } from "../nats/credentials.js";
import { ensureTopology, type Topology } from "../nats/topology.js";
import { sleep } from "./backoff.js";

/** What every service is built from: validated config, a logger, NATS and its streams. */
export interface ServiceContext {
  config: Config;
  log: Logger;
  nc: NatsConnection;
  connection: ConnectionState;
  topology: Topology;
}

/** A started service: `stop` drains in-flight work and releases what it holds. */
export interface RunningService {
  stop(): Promise<void>;
}

// The object store digests every object it stores or reads back; its default pure-JS SHA-256
// costs more CPU than the rest of an upload together, node:crypto a fraction of it.
setSha256Backend("native");

/** `credentials`: the configured ones (`nats.*File`), unless the caller made its own (the all-in-one's embedded server). */
export async function createContext(config: Config, log: Logger, natsUrl: string, name: string, credentials = natsCredentials(config.nats)): Promise<ServiceContext> {
  const { nc, connection } = await connectNats(natsUrl, name, log, credentials);
  return { config, log, nc, connection, topology: await topologyWhenAllowed(nc, config, log) };
}

/**
 * A service whose NATS user may not create streams (a worker or shipper under the least-privilege
 * users of deploy/nats/secure.conf) waits for the api, whose user creates them.
 */
async function topologyWhenAllowed(nc: NatsConnection, config: Config, log: Logger): Promise<Topology> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ensureTopology(nc, config);
    } catch (err) {
      if (!/permissions violation/i.test((err as Error).message)) throw err;
      if (attempt % 15 === 0) log.warn({ event: "nats.topology_waiting", err: (err as Error).message }, "this NATS user may not create the streams: waiting for the api to create them");
      await sleep(2_000);
    }
  }
}
