import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalNatsServer, type LocalNatsServer } from "../../shared/nats/local-server.js";

export interface TestNats extends LocalNatsServer {
  /** Starts the server again on the same port and store (after `stop`), as a NATS restart would. */
  restart(): Promise<TestNats>;
  /** Stops the server and removes its store. */
  cleanup(): Promise<void>;
}

/** A real nats-server with JetStream on a free loopback port and a temp store, owned by one test. */
export async function startTestNats(storeDir?: string, port?: number): Promise<TestNats> {
  const dir = storeDir ?? (await mkdtemp(join(tmpdir(), "brocapi-nats-")));
  const server = await startLocalNatsServer({ storeDir: dir, ...(port ? { port } : {}) });
  return {
    ...server,
    restart: () => startTestNats(dir, server.port),
    async cleanup() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
