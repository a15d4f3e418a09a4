import { setSha256Backend } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import { connectNats, type ConnectionState } from "../nats/connect.js";
import { ensureTopology, type Topology } from "../nats/topology.js";

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

export async function createContext(config: Config, log: Logger, natsUrl: string, name: string): Promise<ServiceContext> {
  const { nc, connection } = await connectNats(natsUrl, name, log);
  const topology = await ensureTopology(nc, config);
  return { config, log, nc, connection, topology };
}
